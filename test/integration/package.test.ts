/**
 * What users install: `npm pack`, unpack into a throwaway project, and import every entry in
 * ESM and CJS. Also the promise behind the subpath exports: the root entry never loads a cache
 * client, the Memcached entry never loads ioredis, and the testing entry never loads vitest.
 * Last, what an adapter author does: run the shipped contract suite with their own vitest.
 */
import { execFileSync } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], { cwd: root, encoding: 'utf8' })) as {
    filename: string;
  }[];
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
    const files = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as {
      files: { path: string }[];
    }[];
    const paths = (files[0]?.files ?? []).map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.cjs',
        'dist/index.d.ts',
        'dist/redis.js',
        'dist/memcached.js',
        'dist/cli.js',
        'dist/adapter-kit.js',
        'dist/testing.js',
        'dist/testing.cjs',
        'README.md',
        'LICENSE',
        'CHANGELOG.md',
      ]),
    );
    expect(paths.some((p) => p.startsWith('test/') || p.startsWith('src/'))).toBe(false);
  });

  it('imports every entry from ESM', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `const root = await import('ddb-cache-sync');
       const redis = await import('ddb-cache-sync/redis');
       const memcached = await import('ddb-cache-sync/memcached');
       const kit = await import('ddb-cache-sync/adapter-kit');
       const testing = await import('ddb-cache-sync/testing');
       console.log(JSON.stringify([typeof root.createStreamHandler, typeof root.memoryAdapter, typeof root.planCommands, typeof redis.redisAdapter, typeof memcached.memcachedAdapter, typeof kit.setVersionedTransition, typeof testing.adapterContract]));`,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', 'function', 'function', 'function', 'function']);
  });

  it('requires every entry from CJS', () => {
    const out = node([
      '-e',
      `const root = require('ddb-cache-sync');
       const redis = require('ddb-cache-sync/redis');
       const memcached = require('ddb-cache-sync/memcached');
       const kit = require('ddb-cache-sync/adapter-kit');
       const testing = require('ddb-cache-sync/testing');
       console.log(JSON.stringify([typeof root.createStreamHandler, typeof root.ConfigError, typeof redis.redisAdapter, typeof memcached.memcachedAdapter, typeof kit.fillTransition, typeof testing.adapterContract]));`,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', 'function', 'function', 'function']);
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
    const loaded = (entry: string) => JSON.parse(node(['-e', `require('${entry}'); console.log(JSON.stringify(Object.keys(require.cache)))`])) as string[];
    const fromRoot = loaded('ddb-cache-sync');
    expect(fromRoot.some((p) => /[/\\]node_modules[/\\](ioredis|memjs)[/\\]/.test(p))).toBe(false);
    const fromMemcached = loaded('ddb-cache-sync/memcached');
    expect(fromMemcached.some((p) => /[/\\]node_modules[/\\]ioredis[/\\]/.test(p))).toBe(false);
  });

  it('keeps adapter-author internals out of the root entry', () => {
    const out = node(['-e', `console.log(JSON.stringify(Object.keys(require('ddb-cache-sync'))))`]);
    const rootNames = JSON.parse(out) as string[];
    for (const name of [
      'ENVELOPE_MARK',
      'ENVELOPE_SEPARATOR',
      'setVersionedTransition',
      'deleteVersionedTransition',
      'leaseTransition',
      'fillTransition',
      'adapterContract',
    ]) {
      expect(rootNames).not.toContain(name);
    }
    expect(rootNames).toEqual(expect.arrayContaining(['createStreamHandler', 'decodeEnvelope', 'planCommands', 'compileRules']));
  });

  it('loads no vitest from the testing entry until the caller passes theirs', () => {
    const out = node(['-e', `require('ddb-cache-sync/testing'); console.log(JSON.stringify(Object.keys(require.cache)))`]);
    const loaded = JSON.parse(out) as string[];
    expect(loaded.some((p) => p.includes('ddb-cache-sync'))).toBe(true);
    expect(loaded.some((p) => /[/\\]node_modules[/\\](vitest|@vitest)[/\\]/.test(p))).toBe(false);
  });
});

interface VitestJsonReport {
  testResults: { name: string; assertionResults: { title: string; status: string }[] }[];
}

describe('the shipped adapter contract suite, run as a third party runs it', () => {
  // A test file an adapter author writes: their vitest, the packed `ddb-cache-sync/testing`.
  const memoryContract = `import * as vitest from 'vitest';
import { memoryAdapter } from 'ddb-cache-sync';
import { adapterContract } from 'ddb-cache-sync/testing';

vitest.describe('memoryAdapter through the package entry', () => {
  adapterContract(vitest, async () => {
    const adapter = memoryAdapter();
    return { adapter, ttlOf: async (key) => adapter.ttl(key), stop: async () => {} };
  });
});
`;
  // An adapter that reports deletes as done without doing them: the suite must catch it.
  const brokenContract = `import * as vitest from 'vitest';
import { memoryAdapter } from 'ddb-cache-sync';
import type { CacheAdapter } from 'ddb-cache-sync/adapter-kit';
import { adapterContract } from 'ddb-cache-sync/testing';

vitest.describe('an adapter that drops deletes', () => {
  adapterContract(vitest, async () => {
    const inner = memoryAdapter();
    const adapter: CacheAdapter = {
      name: 'drops-deletes',
      execute: async (commands) => {
        const kept = commands.filter((c) => c.kind !== 'delete');
        await inner.execute(kept);
        return commands.map(() => ({ ok: true as const }));
      },
      get: (key) => inner.get(key),
      close: () => inner.close(),
    };
    return { adapter, stop: async () => {} };
  });
});
`;
  let report: VitestJsonReport;

  beforeAll(() => {
    const dir = join(project, 'contract');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'memory.contract.test.ts'), memoryContract);
    writeFileSync(join(dir, 'broken.contract.test.ts'), brokenContract);
    const outputFile = join(project, 'vitest-report.json');
    // The consumer's own vitest binary; none of this run's VITEST_* state leaks into it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_OPTIONS'));
    const run = spawnSync(
      process.execPath,
      [
        join(project, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--root',
        project,
        '--dir',
        'contract',
        '--reporter=json',
        `--outputFile=${outputFile}`,
        '--testTimeout=20000',
      ],
      { cwd: project, encoding: 'utf8', env },
    );
    try {
      report = JSON.parse(readFileSync(outputFile, 'utf8')) as VitestJsonReport;
    } catch (error) {
      throw new Error(`vitest in the consumer project wrote no report (exit ${run.status}): ${run.stderr}`, { cause: error });
    }
  }, 120_000);

  const resultsOf = (file: string) => {
    const results = report.testResults.find((r) => r.name.endsWith(file));
    if (!results) throw new Error(`no results for ${file} in the consumer's vitest report`);
    return results.assertionResults;
  };

  it('passes against the memory adapter imported from the package entry', () => {
    const results = resultsOf('memory.contract.test.ts');
    expect(results.filter((r) => r.status === 'failed')).toEqual([]);
    expect(results.filter((r) => r.status === 'passed').length).toBeGreaterThanOrEqual(20);
    // The memory adapter refuses nothing, so that one case has nothing to run.
    expect(results.filter((r) => r.status !== 'passed').map((r) => r.title)).toEqual(['reports a refused command as failed and still applies the others']);
  });

  it('fails an adapter that reports a delete it never applied', () => {
    const failed = resultsOf('broken.contract.test.ts')
      .filter((r) => r.status === 'failed')
      .map((r) => r.title);
    expect(failed).toContain('deletes a key, and deleting a missing key succeeds');
  });
});
