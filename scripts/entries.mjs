/**
 * The package's entry points, listed once. tsup builds each `name`; the ones with a `subpath` are
 * exported under it (package.json `exports` and tsconfig `paths` must agree, which
 * test/unit/package-entries.test.ts checks); the esbuild plugin for examples and benches and the
 * API report read the same list.
 *
 * @module
 */
export const ENTRY_POINTS = [
  { name: 'index', subpath: '.', source: 'src/index.ts' },
  { name: 'redis', subpath: './redis', source: 'src/adapters/redis/index.ts' },
  { name: 'memcached', subpath: './memcached', source: 'src/adapters/memcached/index.ts' },
  { name: 'local', subpath: './local', source: 'src/local/index.ts' },
  { name: 'monitor', subpath: './monitor', source: 'src/monitor/index.ts' },
  { name: 'cdk', subpath: './cdk', source: 'src/cdk/index.ts' },
  { name: 'sdk', subpath: './sdk', source: 'src/sdk/index.ts' },
  { name: 'adapter-kit', subpath: './adapter-kit', source: 'src/adapter-kit.ts' },
  { name: 'testing', subpath: './testing', source: 'src/testing/index.ts' },
  { name: 'cli', subpath: undefined, source: 'src/cli/index.ts' },
];

/** `ddb-cache-sync/<subpath>` -> source, for every exported entry. */
export const LIBRARY_SOURCES = Object.fromEntries(
  ENTRY_POINTS.filter((e) => e.subpath !== undefined).map((e) => [e.subpath === '.' ? 'ddb-cache-sync' : `ddb-cache-sync/${e.subpath.slice(2)}`, e.source]),
);
