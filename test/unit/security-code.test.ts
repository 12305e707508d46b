/**
 * "Item data is data": a static guard that the library source has no way to run text as code.
 * Redis scripts are the one EVAL, and they are fixed module constants with item data passed
 * as KEYS/ARGV, never spliced into the script text.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const files = sources(ROOT).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));

describe('no code evaluation in the library', () => {
  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each([
    ['eval()', /(^|[^.\w])eval\s*\(/],
    ['new Function', /new\s+Function\s*\(/],
    ['Function()', /(^|[^.\w])Function\s*\(/],
    ['node:vm', /['"](node:)?vm['"]/],
    ['setTimeout with a string', /setTimeout\s*\(\s*['"`]/],
  ])('uses no %s', (_, pattern) => {
    expect(files.filter((f) => pattern.test(f.text)).map((f) => f.path)).toEqual([]);
  });

  it('sends Redis scripts only as fixed bodies, with keys and values as arguments', () => {
    const evals = files.flatMap((f) => [...f.text.matchAll(/\.eval(sha)?\(([^,]+),/g)].map((m) => `${f.path}: ${m[2] ?? ''}`));
    for (const call of evals) expect(call).toMatch(/: script\.(body|sha)$/);
  });

  it('spawns processes only in the local development tools, never in the Lambda path', () => {
    const spawning = files.filter((f) => /['"](node:)?child_process['"]/.test(f.text)).map((f) => f.path);
    for (const path of spawning) expect(path).toMatch(/^(local|cli)\//);
  });
});
