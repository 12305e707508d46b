/**
 * What users install: `npm pack`, unpack into a throwaway project, and import every entry in
 * ESM and CJS. Also the promise behind the subpath exports: the root entry never loads a cache
 * client, and the Memcached entry never loads ioredis.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
let project: string;

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: project, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'ddb-cache-sync-pack-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], { cwd: root, encoding: 'utf8' })) as { filename: string }[];
  const tarball = join(project, packed[0]?.filename ?? '');
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, 'ddb-cache-sync'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'ddb-cache-sync'), '--strip-components=1']);
  // Dependencies come from this checkout, so the test needs no network.
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  writeFileSync(join(project, 'package.json'), '{"name":"consumer","private":true}');
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships dist, the examples, docs-facing files, and no tests or sources', () => {
    const files = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as { files: { path: string }[] }[];
    const paths = (files[0]?.files ?? []).map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/redis.js', 'dist/memcached.js', 'dist/cli.js', 'README.md', 'LICENSE', 'CHANGELOG.md']));
    expect(paths.some((p) => p.startsWith('test/') || p.startsWith('src/'))).toBe(false);
  });

  it('imports every entry from ESM', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `const root = await import('ddb-cache-sync');
       const redis = await import('ddb-cache-sync/redis');
       const memcached = await import('ddb-cache-sync/memcached');
       console.log(JSON.stringify([typeof root.createStreamHandler, typeof root.memoryAdapter, typeof root.planCommands, typeof redis.redisAdapter, typeof memcached.memcachedAdapter]));`,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', 'function', 'function']);
  });

  it('requires every entry from CJS', () => {
    const out = node([
      '-e',
      `const root = require('ddb-cache-sync');
       const redis = require('ddb-cache-sync/redis');
       const memcached = require('ddb-cache-sync/memcached');
       console.log(JSON.stringify([typeof root.createStreamHandler, typeof root.ConfigError, typeof redis.redisAdapter, typeof memcached.memcachedAdapter]));`,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', 'function']);
  });

  it('handles an event end to end from the installed package', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import { createStreamHandler, memoryAdapter } from 'ddb-cache-sync';
       const cache = memoryAdapter();
       const handler = createStreamHandler({ adapter: cache, logger: false, metrics: false,
         rules: [{ key: (i) => 'user:' + i.pk, strategy: 'write-through' }] });
       const res = await handler({ Records: [{ eventName: 'INSERT', eventSourceARN: 'arn:aws:dynamodb:us-east-1:1:table/App/stream/x',
         dynamodb: { SequenceNumber: '1', Keys: { pk: { S: 'a' } }, NewImage: { pk: { S: 'a' }, n: { N: '7' } } } }] });
       console.log(JSON.stringify({ res, value: await cache.get('user:a') }));`,
    ]);
    expect(JSON.parse(out)).toEqual({ res: { batchItemFailures: [] }, value: '{"pk":"a","n":7}' });
  });

  it('loads no cache client from the root entry, and no ioredis from the Memcached entry', () => {
    const loaded = (entry: string) =>
      JSON.parse(node(['-e', `require('${entry}'); console.log(JSON.stringify(Object.keys(require.cache)))`])) as string[];
    const fromRoot = loaded('ddb-cache-sync');
    expect(fromRoot.some((p) => /[/\\]node_modules[/\\](ioredis|memjs)[/\\]/.test(p))).toBe(false);
    const fromMemcached = loaded('ddb-cache-sync/memcached');
    expect(fromMemcached.some((p) => /[/\\]node_modules[/\\]ioredis[/\\]/.test(p))).toBe(false);
  });
});
