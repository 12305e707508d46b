import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { packageRoot, run, STACK_FILES } from '../../src/cli/init-stack.js';

const ROOT = join(import.meta.dirname, '..', '..');

let dir: string;
let out: string[];
let err: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddb-cache-sync-init-stack-'));
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void err.push(args.join(' ')));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('ddb-cache-sync init-stack', () => {
  it('finds the package root from its own folder', () => {
    expect(packageRoot()).toBe(ROOT);
    expect(packageRoot(join(ROOT, 'dist'))).toBe(ROOT);
  });

  it('writes the templates, the README and the handler sources, byte for byte', async () => {
    const target = join(dir, 'infra');
    expect(await run([target])).toBe(0);
    for (const { from, to } of STACK_FILES) {
      expect(await readFile(join(target, to), 'utf8'), to).toBe(await readFile(join(ROOT, from), 'utf8'));
    }
    expect(out.join('\n')).toContain('README.md');
    expect(err).toEqual([]);
  });

  it('ships every file it copies: each lives under a folder package.json "files" publishes', async () => {
    const manifest: unknown = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    const files = typeof manifest === 'object' && manifest !== null && 'files' in manifest && Array.isArray(manifest.files) ? manifest.files : [];
    for (const { from } of STACK_FILES) {
      expect(
        files.some((entry: unknown) => typeof entry === 'string' && (from === entry || from.startsWith(`${entry}/`))),
        from,
      ).toBe(true);
    }
  });

  it('refuses to overwrite an existing file and writes nothing, unless --force', async () => {
    await writeFile(join(dir, 'stack.yaml'), 'mine');
    expect(await run([dir])).toBe(1);
    expect(err.join('\n')).toMatch(/refusing to overwrite existing files \(pass --force to overwrite\):\n.*stack\.yaml/);
    expect(await readFile(join(dir, 'stack.yaml'), 'utf8')).toBe('mine');
    expect(await exists(join(dir, 'stack-memcached.yaml')), 'nothing written on refusal').toBe(false);

    expect(await run([dir, '--force'])).toBe(0);
    expect(await readFile(join(dir, 'stack.yaml'), 'utf8')).toBe(await readFile(join(ROOT, 'examples/cloudformation/stack.yaml'), 'utf8'));
  });

  it('writes into an existing folder that holds other files', async () => {
    await mkdir(join(dir, 'handler'));
    await writeFile(join(dir, 'handler', 'other.ts'), 'keep');
    expect(await run([dir])).toBe(0);
    expect(await readFile(join(dir, 'handler', 'other.ts'), 'utf8')).toBe('keep');
  });

  it('answers usage errors with exit code 2 and the usage text', async () => {
    expect(await run([])).toBe(2);
    expect(err.join('\n')).toMatch(/missing <dir>[\s\S]*usage: ddb-cache-sync init-stack/);
    expect(await run([dir, '--frce'])).toBe(2);
    expect(err.join('\n')).toContain('unknown option "--frce"');
    expect(await run([dir, join(dir, 'b')])).toBe(2);
    expect(await run(['--help'])).toBe(0);
    expect(out.join('\n')).toContain('--force');
  });
});
