/**
 * The example handlers bundled the ways teams bundle Lambdas (CDK NodejsFunction, SAM's esbuild
 * builder): CommonJS, ESM with the createRequire banner, and plain ESM. Each bundle runs in its
 * own `node` process, as Lambda runs it, against real redis-server and memcached on loopback;
 * the library's own output on stderr stays empty.
 */
import { mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBBatchResponse } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler } from '../../scripts/package-example.mjs';
import { ESM_REQUIRE_BANNER } from '../../src/adapters/peer.js';
import { memcachedKey } from '../../src/adapters/memcached/key.js';
import { lambdaEnv, runNode } from '../helpers/lambda-process.js';
import { useMemcached } from '../helpers/memcached-fixtures.js';
import { textCommand } from '../helpers/memcached-servers.js';
import { event, insert } from '../helpers/records.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Imports the bundle (CommonJS or ESM alike, as the Lambda runtime does) and runs one event. */
const RUNNER = `
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [bundle, file] = process.argv.slice(2);
const mod = await import(pathToFileURL(bundle).href);
const handler = mod.handler ?? mod.default?.handler;
const response = await handler(JSON.parse(readFileSync(file, 'utf8')), {});
process.stdout.write('\\n@@RESULT ' + JSON.stringify(response) + '\\n');
process.stdout.write('@@GLOBAL_REQUIRE ' + ('require' in globalThis) + '\\n');
process.exit(0);
`;

/**
 * What stderr may hold: the AWS SDK's NodeVersionSupportWarning, which it emits through
 * process.emitWarning on Node versions it plans to drop, once an SDK client is created.
 */
const SDK_NODE_WARNING =
  /\(node:\d+\) (?:\[\w+\] )?Warning: NodeVersionSupportWarning:[\s\S]*?More information can be found at: \S+\n(?:\(Use `node --trace-warnings[^\n]*\n)?/g;

interface Variant {
  readonly name: string;
  readonly file: string;
  readonly format: 'cjs' | 'esm';
  readonly banner?: string;
}

const VARIANTS: readonly Variant[] = [
  { name: 'CommonJS', file: 'cjs', format: 'cjs' },
  { name: 'ESM with the createRequire banner', file: 'banner.mjs', format: 'esm', banner: ESM_REQUIRE_BANNER },
  { name: 'plain ESM (no banner)', file: 'plain.mjs', format: 'esm' },
];

let work: string;
let runner: string;
let counter = 0;

interface Run {
  readonly response: DynamoDBBatchResponse | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

async function invoke(bundle: string, env: NodeJS.ProcessEnv, id: string): Promise<Run> {
  const file = join(work, `event-${++counter}.json`);
  const user = { pk: `USER#${id}`, sk: 'PROFILE', type: 'User', id, name: 'Ada', email: `u${id}@example.com` };
  await writeFile(file, JSON.stringify(event(insert(user, { keys: { pk: user.pk, sk: 'PROFILE' } }))));
  const { stdout, stderr } = await runNode([runner, bundle, file], env);
  const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  return { response: line === undefined ? undefined : (JSON.parse(line.slice('@@RESULT '.length)) as DynamoDBBatchResponse), stdout, stderr };
}

/** stderr without the allowed SDK notice: the library and its clients write nothing there. */
const unexpectedStderr = (stderr: string): string => stderr.replace(SDK_NODE_WARNING, '');

/** stdout lines that are log lines at WARN or ERROR (EMF lines and the result are fine). */
const complaints = (stdout: string): string[] => stdout.split('\n').filter((line) => /"level":"(WARN|ERROR)"/.test(line));

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ddb-cache-sync-esm-'));
  // ESM resolves `import '@aws-sdk/client-...'` from the bundle's folder, as from /var/task.
  await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
  runner = join(work, 'runner.mjs');
  await writeFile(runner, RUNNER);
  for (const entry of ['index', 'memcached']) {
    for (const variant of VARIANTS) {
      const options = variant.banner === undefined ? { format: variant.format } : { format: variant.format, banner: variant.banner };
      await writeFile(join(work, `${entry}.${variant.file}`), await bundleHandler(`examples/handler/${entry}.ts`, options));
    }
  }
});

afterAll(async () => {
  if (work === undefined) return;
  await unlink(join(work, 'node_modules')).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

describe('example handler bundles against real Redis', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  for (const [i, variant] of VARIANTS.entries()) {
    it(`${variant.name}: applies the event, with nothing on stderr but the SDK's runtime notice`, async () => {
      const id = `r${i}`;
      const env = lambdaEnv({ CACHE_ENDPOINT: `127.0.0.1:${redis.port}`, CACHE_CLUSTER: 'false', CACHE_TLS: 'false' });
      const run = await invoke(join(work, `index.${variant.file}`), env, id);
      expect(run.response).toEqual({ batchItemFailures: [] });
      // The require lent to a plain ESM bundle lasts only while the client loads.
      expect(run.stdout).toContain('@@GLOBAL_REQUIRE false');
      expect(JSON.parse(await redis.cli('GET', `user:${id}`))).toEqual({ id, name: 'Ada', email: `u${id}@example.com` });
      expect(complaints(run.stdout)).toEqual([]);
      expect(unexpectedStderr(run.stderr)).toBe('');
    });
  }
});

describe('example handler bundles against real Memcached', () => {
  const memcached = useMemcached();

  for (const [i, variant] of VARIANTS.entries()) {
    it(`${variant.name}: applies the event, with nothing on stderr but the SDK's runtime notice`, async () => {
      const id = `m${i}`;
      const env = lambdaEnv({ MEMCACHED_SERVERS: memcached.server.servers, MEMCACHED_TLS: 'false' });
      const run = await invoke(join(work, `memcached.${variant.file}`), env, id);
      expect(run.response).toEqual({ batchItemFailures: [] });
      expect(await textCommand(memcached.server.node.address, `get ${memcachedKey(`user:${id}`)}`)).toContain(`"email":"u${id}@example.com"`);
      expect(complaints(run.stdout)).toEqual([]);
      expect(unexpectedStderr(run.stderr)).toBe('');
    });
  }
});

describe('a client that cannot load in a bundle', () => {
  /**
   * A plain ESM bundle of a CommonJS module that requires a built-in, loaded without the lent
   * `require`: the failure esbuild's output produces, classified by the library's own code.
   */
  const PROBE = `
import { clientLoadError } from ${JSON.stringify(join(ROOT, 'src/adapters/peer.ts'))};
export async function probe(name) {
  try {
    if (name === 'cjs') await import('./needs-require.cjs');
    else await import('definitely-not-installed-peer');
    return 'loaded';
  } catch (cause) {
    const error = clientLoadError(name === 'cjs' ? 'ioredis' : 'definitely-not-installed-peer', 'redisAdapter.url', cause);
    return JSON.stringify({ name: error.name, missing: error.missing, message: error.message });
  }
}
`;

  async function probe(name: 'cjs' | 'missing'): Promise<{ name: string; missing: boolean; message: string }> {
    const dir = await mkdtemp(join(work, 'probe-'));
    await writeFile(join(dir, 'entry.mjs'), PROBE);
    await writeFile(join(dir, 'needs-require.cjs'), "module.exports = require('events');");
    const out = join(dir, 'probe.mjs');
    await build({
      entryPoints: [join(dir, 'entry.mjs')],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['definitely-not-installed-peer'],
      logLevel: 'silent',
    });
    const script = `import(${JSON.stringify(out)}).then(async (m) => process.stdout.write(await m.probe(${JSON.stringify(name)})));`;
    const { stdout } = await runNode(['--input-type=module', '-e', script], process.env);
    return JSON.parse(stdout) as { name: string; missing: boolean; message: string };
  }

  it('names the bundle fix, with the banner for esbuild, CDK and SAM, and never says the package is missing', async () => {
    const error = await probe('cjs');
    expect(error.name).toBe('ClientLoadError');
    expect(error.missing).toBe(false);
    expect(error.message).toContain('Dynamic require of "events" is not supported');
    expect(error.message).toContain('fix your bundle');
    expect(error.message).toContain(`--banner:js="${ESM_REQUIRE_BANNER}"`);
    expect(error.message).toContain('format: OutputFormat.ESM, banner:');
    expect(error.message).toContain('Format: esm, Banner:');
    expect(error.message).not.toContain('npm install');
  });

  it('says "npm install" only when the package itself is not installed', async () => {
    const error = await probe('missing');
    expect(error).toEqual({
      name: 'ClientLoadError',
      missing: true,
      message: expect.stringContaining(
        'needs the optional peer dependency definitely-not-installed-peer, which is not installed (npm install definitely-not-installed-peer)',
      ),
    });
  });
});
