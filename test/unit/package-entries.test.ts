/**
 * scripts/entries.mjs lists the entry points once; package.json `exports` and tsconfig `paths`
 * repeat them in formats tools read directly, so this keeps the three in step.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from '../../scripts/entries.mjs';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, unknown>; typesVersions?: unknown };
// tsconfig.json is JSON without comments here.
const tsconfig = JSON.parse(readFileSync(new URL('tsconfig.json', root), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
const exported = ENTRY_POINTS.filter((e) => e.subpath !== undefined);

describe('package entry points', () => {
  it('exports every listed subpath, with ESM and CJS types and code, and nothing else but package.json', () => {
    const expected = Object.fromEntries(
      exported.map((e) => [
        e.subpath,
        {
          import: { types: `./dist/${e.name}.d.ts`, default: `./dist/${e.name}.js` },
          require: { types: `./dist/${e.name}.d.cts`, default: `./dist/${e.name}.cjs` },
        },
      ]),
    );
    const { './package.json': packageJson, ...rest } = pkg.exports;
    expect(packageJson).toBe('./package.json');
    expect(rest).toEqual(expected);
  });

  it('points node10 resolution (no `exports` support) at the CJS types of every subpath through typesVersions', () => {
    // Without this, TypeScript's node10 resolution (older setups, some tools) finds no types for
    // `ddb-cache-sync/redis`: it looks for redis.d.ts at the package root. node16 and bundler
    // resolution read `exports` and ignore these mappings.
    const expected = Object.fromEntries(exported.filter((e) => e.subpath !== '.').map((e) => [(e.subpath ?? '').slice(2), [`./dist/${e.name}.d.cts`]]));
    expect(pkg.typesVersions).toEqual({ '*': expected });
  });

  it('maps every subpath to its source in tsconfig paths, for tests, benches and examples', () => {
    const expected = Object.fromEntries(
      exported.map((e) => [e.subpath === '.' ? 'ddb-cache-sync' : `ddb-cache-sync/${(e.subpath ?? '').slice(2)}`, [`./${e.source}`]]),
    );
    expect(tsconfig.compilerOptions.paths).toEqual(expected);
  });
});
