/**
 * The `ddb-cache-sync` command line's manners: `--version`, one-line errors with the usage, no
 * stack traces, and the documented exit codes (0 success, 1 failure, 2 usage).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const tmp = mkdtempSync(join(tmpdir(), 'cli-test-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

interface Spawned {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function spawnNode(args: string[]): Promise<Spawned> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 60_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

describe('ddb-cache-sync (main)', () => {
  it.each([['--version'], ['-v'], ['-V']])('prints the package version for %s and exits 0', async (flag) => {
    expect(await cli([flag])).toEqual({ code: 0, out: VERSION, err: '' });
  });

  it('prints the usage with the exit codes for --help and exits 0', async () => {
    const { code, out, err } = await cli(['--help']);
    expect(code).toBe(0);
    expect(out).toContain('usage: ddb-cache-sync <command> [options]');
    expect(out).toContain('--version');
    expect(out).toContain('Exit codes: 0 success, 1 failure, 2 usage error.');
    expect(err).toBe('');
  });

  it.each([
    [['--bogus'], 'unknown option "--bogus"'],
    [['frobnicate'], 'unknown command "frobnicate"'],
  ])('answers %j with one line and the usage, and exits 2', async (args, first) => {
    const { code, out, err } = await cli(args);
    expect(code).toBe(2);
    expect(out).toBe('');
    const [line, blank, usage] = err.split('\n');
    expect([line, blank, usage]).toEqual([first, '', 'usage: ddb-cache-sync <command> [options]']);
  });

  it('exits 2 with the usage on stderr when no command is given', async () => {
    const { code, err } = await cli([]);
    expect(code).toBe(2);
    expect(err).toMatch(/^usage: ddb-cache-sync/);
  });

  it('passes a subcommand usage error through as exit 2, one line first', async () => {
    const { code, err } = await cli(['replay', '--bogus']);
    expect(code).toBe(2);
    expect(err.split('\n')[0]).toMatch(/^Unknown option '--bogus'/);
    expect(err).toContain('usage: ddb-cache-sync replay');
  });

  it('reports a failing subcommand in one line without a stack trace, and exits 1', async () => {
    const config = join(tmp, 'throwing-config.mjs');
    writeFileSync(config, "export function createConfig() { throw new Error('REDIS_URL is not set'); }\n");
    const event = join(ROOT, 'test/fixtures/events/user-lifecycle.json');
    const { code, out, err } = await cli(['replay', '--event', event, '--config', config]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe('ddb-cache-sync replay: REDIS_URL is not set');
  });
});

describe('ddb-cache-sync (as a process)', () => {
  it('runs from its entry: --version prints the version of the package it sits in', async () => {
    // The entry bundled beside a package.json, as dist/cli.js sits in the installed package.
    const dir = mkdtempSync(join(tmp, 'pkg-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ddb-cache-sync', version: '9.8.7-test' }));
    const entry = join(dir, 'dist', 'cli.js');
    await build({ entryPoints: [join(ROOT, 'src/cli/index.ts')], outfile: entry, bundle: true, platform: 'node', format: 'esm', logLevel: 'silent' });
    writeFileSync(join(dir, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));
    expect(await spawnNode([entry, '--version'])).toEqual({ code: 0, stdout: '9.8.7-test\n', stderr: '' });
    const bogus = await spawnNode([entry, '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr.split('\n')[0]).toBe('unknown option "--bogus"');
    expect(bogus.stderr).not.toMatch(/\n\s+at /);
  });

  it('npm run demo -- --bogus: one line and the usage, no stack trace, exit 2', async () => {
    const { code, stdout, stderr } = await spawnNode(['examples/demo/run.mjs', '--bogus']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toMatch(/^Unknown option '--bogus'/);
    expect(stderr).toContain('usage: npm run demo --');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
