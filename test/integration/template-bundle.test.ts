/**
 * The deployable example, end to end without AWS: bundle the example handlers exactly as
 * `npm run package:example` does, unpack the zips, and run each bundle in its own `node`
 * process (as Lambda does) against real local servers:
 * - Valkey/Redis handler: redis-server with TLS and an ACL user shaped like the template's RBAC
 *   user, the password served by a fake Secrets Manager endpoint on loopback; and a
 *   3-node Redis Cluster for the cluster-protocol path.
 * - Memcached handler: memcached with TLS, found through a fake ElastiCache Auto Discovery
 *   endpoint (TLS too); and plain memcached from a fixed server list.
 */
import { createRequire } from 'node:module';
import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageExamples, zip } from '../../scripts/package-example.mjs';
import { memcachedKey } from '../../src/adapters/memcached/key.js';
import { keySlot } from '../../src/adapters/redis/slot.js';
import { lambdaEnv as cleanLambdaEnv, runNode } from '../helpers/lambda-process.js';
import { useMemcached } from '../helpers/memcached-fixtures.js';
import { startMemcached, textCommand } from '../helpers/memcached-servers.js';
import { event, insert, modify } from '../helpers/records.js';
import { startRedis, startRedisCluster, type RedisClusterServers, type RedisServer } from '../helpers/redis-servers.js';
import { createTestCertificates, type TestCertificates } from '../helpers/tls-certs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ddb-cache-sync-cache-AbCdEf';
const USERNAME = 'ddb-cache-sync-writer';
const PASSWORD = 'Zq8RkT2mVw9Xy4Lp7Hn3Jc6Bd5Gf1Ks0Ae';

// --- the bundles ----------------------------------------------------------------------------

interface ZipEntry {
  readonly name: string;
  readonly mode: number;
  readonly data: Buffer;
}

/** Read a zip's entries through its central directory, checking sizes and CRCs. */
function readZip(archive: Buffer): ZipEntry[] {
  const end = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('no end-of-central-directory record');
  const count = archive.readUInt16LE(end + 10);
  let at = archive.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (archive.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory header at ${at}`);
    const method = archive.readUInt16LE(at + 10);
    const crc = archive.readUInt32LE(at + 16);
    const compressedSize = archive.readUInt32LE(at + 20);
    const size = archive.readUInt32LE(at + 24);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const mode = archive.readUInt32LE(at + 38) >>> 16;
    const local = archive.readUInt32LE(at + 42);
    const name = archive.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if (archive.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const start = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const raw = archive.subarray(start, start + compressedSize);
    const data = method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    if (data.length !== size) throw new Error(`${name}: size ${data.length}, header says ${size}`);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
    entries.push({ name, mode, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

let work: string;
let redisBundle: string;
let memcachedBundle: string;
let redisMonitorBundle: string;
let memcachedMonitorBundle: string;
let runner: string;
const sizes: Record<string, { zip: number; bundle: number }> = {};
let zips: Awaited<ReturnType<typeof packageExamples>> = [];

/** Runs handler(event) for each event file in one process (one cold start); prints results. */
const RUNNER = `
const { readFileSync } = require('node:fs');
const [bundle, ...events] = process.argv.slice(2);
const print = (value) => process.stdout.write('\\n@@RESULT ' + JSON.stringify(value) + '\\n');
(async () => {
  const { handler } = require(bundle);
  for (const file of events) {
    try {
      print({ ok: true, response: await handler(JSON.parse(readFileSync(file, 'utf8')), {}) });
    } catch (error) {
      print({ ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
  process.exit(0);
})();
`;

type Outcome = { ok: true; response: DynamoDBBatchResponse } | { ok: false; error: string };

interface Run {
  readonly outcomes: Outcome[];
  readonly output: string;
}

/** The helpers' clean environment, plus the SDK clients the Lambda runtime would provide. */
function lambdaEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // The Lambda runtime provides @aws-sdk/client-*; here the repository's node_modules does.
  return cleanLambdaEnv({ NODE_PATH: join(ROOT, 'node_modules'), ...extra });
}

let eventCounter = 0;

async function invoke(bundle: string, env: NodeJS.ProcessEnv, ...events: DynamoDBStreamEvent[]): Promise<Run> {
  const files: string[] = [];
  for (const body of events) {
    const file = join(work, `event-${++eventCounter}.json`);
    await writeFile(file, JSON.stringify(body));
    files.push(file);
  }
  const { stdout, stderr } = await runNode([runner, bundle, ...files], env);
  const outcomes = stdout
    .split('\n')
    .filter((line) => line.startsWith('@@RESULT '))
    .map((line) => JSON.parse(line.slice('@@RESULT '.length)) as Outcome);
  return { outcomes, output: stdout + stderr };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ddb-cache-sync-bundle-'));
  const results = await packageExamples({ outDir: work });
  zips = results;
  expect(results.map((r) => r.entry).sort()).toEqual([
    'examples/handler/index.ts',
    'examples/handler/memcached.ts',
    'examples/handler/monitor-memcached.ts',
    'examples/handler/monitor.ts',
  ]);
  const bundleFiles: Record<string, (file: string) => void> = {
    'examples/handler/index.ts': (file) => (redisBundle = file),
    'examples/handler/memcached.ts': (file) => (memcachedBundle = file),
    'examples/handler/monitor.ts': (file) => (redisMonitorBundle = file),
    'examples/handler/monitor-memcached.ts': (file) => (memcachedMonitorBundle = file),
  };
  for (const result of results) {
    const entries = readZip(await readFile(result.zipPath));
    // `.cjs`: CommonJS whatever package.json is nearest (Lambda resolves `index.handler` to it).
    expect(entries.map((e) => [e.name, e.mode.toString(8)])).toEqual([['index.cjs', '100644']]);
    const [entry] = entries;
    if (entry === undefined) throw new Error('empty zip');
    const file = join(work, `${result.entry.replace(/^.*\//, '').replace(/\.ts$/, '')}.cjs`);
    await writeFile(file, entry.data);
    bundleFiles[result.entry]?.(file);
    sizes[result.entry] = { zip: result.zipBytes, bundle: result.bundleBytes };
  }
  runner = join(work, 'runner.cjs');
  await writeFile(runner, RUNNER);
  // For bundles loaded in this process: their `require('@aws-sdk/client-...')` resolves from
  // their own folder (child processes get NODE_PATH instead, like the Lambda runtime).
  await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
});

afterAll(async () => {
  if (work === undefined) return;
  // Remove the link itself first, so nothing below can ever walk into the real node_modules.
  await unlink(join(work, 'node_modules')).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

describe('package-example', () => {
  it('bundles each handler into one CommonJS index.cjs that leaves only AWS SDK clients to the runtime', async () => {
    for (const bundle of [redisBundle, memcachedBundle, redisMonitorBundle, memcachedMonitorBundle]) {
      const code = await readFile(bundle, 'utf8');
      const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] ?? ''));
      const external = [...required].filter((name) => !name.startsWith('node:') && !BUILTINS.has(name));
      // supports-color: an optional, try/caught require of the `debug` package ioredis uses.
      expect(external.filter((name) => name !== 'supports-color').every((name) => name.startsWith('@aws-sdk/client-'))).toBe(true);
      // The monitors pass their own `load` (a static require); the library's default loader,
      // bundled but never called, is the only dynamic import left.
      const monitor = bundle === redisMonitorBundle || bundle === memcachedMonitorBundle;
      expect(monitor ? code.replaceAll('import("@aws-sdk/client-dynamodb")', '') : code).not.toMatch(/\bimport\(/);
    }
    expect(await readFile(redisBundle, 'utf8')).toContain('require("@aws-sdk/client-secrets-manager")');
    // The monitors read the table with the runtime's DynamoDB client; each holds one adapter.
    for (const bundle of [redisMonitorBundle, memcachedMonitorBundle]) expect(await readFile(bundle, 'utf8')).toContain('require("@aws-sdk/client-dynamodb")');
    expect(await readFile(memcachedMonitorBundle, 'utf8')).not.toContain('ioredis');
    expect(await readFile(memcachedMonitorBundle, 'utf8')).not.toContain('client-secrets-manager');
    // Small enough to state in docs/deploy.md; a jump means a dependency crept into the bundle.
    for (const [entry, size] of Object.entries(sizes)) expect(size.zip, entry).toBeLessThan(150 * 1024);
  });

  it('writes a zip that depends only on the code (fixed timestamps: `package` re-uploads only on change)', async () => {
    for (const result of zips) {
      const archive = await readFile(result.zipPath);
      const entries = readZip(archive);
      expect(zip(entries.map(({ name, data }) => ({ name, data })))).toEqual(archive);
    }
  });
});

const BUILTINS = new Set([
  'assert',
  'buffer',
  'crypto',
  'dns',
  'events',
  'net',
  'stream',
  'tls',
  'tty',
  'util',
  'os',
  'url',
  'string_decoder',
  'zlib',
  'fs',
  'path',
  'http',
  'https',
  'child_process',
  'timers',
]);

describe('example handler helpers (loaded from the bundles)', () => {
  const load = (bundle: string): Record<string, unknown> => createRequire(import.meta.url)(bundle) as Record<string, unknown>;
  const fn = <T extends (...args: never[]) => unknown>(module: Record<string, unknown>, name: string): T => {
    const value = module[name];
    if (typeof value !== 'function') throw new Error(`${name} is not exported`);
    return value as T;
  };

  it('reads the cache settings, TLS and cluster on by default, and rejects what it cannot use', () => {
    const settingsFromEnv = fn<(env: Record<string, string>) => unknown>(load(redisBundle), 'settingsFromEnv');
    expect(settingsFromEnv({ TABLE_NAME: 'App', CACHE_ENDPOINT: 'cache.example:6379' })).toEqual({
      table: 'App',
      endpoint: 'cache.example:6379',
      cluster: true,
      tls: true,
      secretArn: undefined,
    });
    expect(() => settingsFromEnv({ TABLE_NAME: 'App', CACHE_ENDPOINT: 'cache.example' })).toThrow('CACHE_ENDPOINT must be host:port');
    expect(() => settingsFromEnv({ TABLE_NAME: 'App', CACHE_ENDPOINT: 'c:1', CACHE_TLS: 'no' })).toThrow('CACHE_TLS must be "true" or "false"');
    expect(() => settingsFromEnv({ CACHE_ENDPOINT: 'c:1' })).toThrow('TABLE_NAME is not set');
  });

  it('percent-encodes credentials into the rediss:// URL', () => {
    const cacheUrl = fn<(settings: { endpoint: string; tls: boolean }, credentials?: { username: string; password: string }) => string>(
      load(redisBundle),
      'cacheUrl',
    );
    expect(cacheUrl({ endpoint: 'h:6379', tls: true }, { username: 'app', password: 'p@ss:w/rd' })).toBe('rediss://app:p%40ss%3Aw%2Frd@h:6379');
    expect(cacheUrl({ endpoint: 'h:6379', tls: false })).toBe('redis://h:6379');
  });

  it('parses an Auto Discovery reply into host:port in the cluster order', () => {
    const parse = fn<(reply: string) => string[]>(load(memcachedBundle), 'parseClusterConfig');
    const nodes = 'b.cfg.cache|10.0.0.2|11211 a.cfg.cache|10.0.0.1|11211 |10.0.0.3|11212';
    const payload = `7\n${nodes}\n`;
    expect(parse(`CONFIG cluster 0 ${payload.length}\r\n${payload}\r\nEND\r\n`)).toEqual(['b.cfg.cache:11211', 'a.cfg.cache:11211', '10.0.0.3:11212']);
    expect(() => parse('END\r\n')).toThrow('unexpected reply to "config get cluster"');
    expect(() => parse('CONFIG cluster 0 9\r\n1\nhost|ip\n\r\nEND\r\n')).toThrow('unexpected node');
  });
});

// --- Valkey/Redis handler -------------------------------------------------------------------

interface FakeSecretsManager {
  readonly url: string;
  readonly requests: { target: string; secretId: unknown }[];
  secret: string;
  close(): Promise<void>;
}

/** Answers GetSecretValue for SECRET_ARN over the AWS JSON protocol, on loopback. */
async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const requests: { target: string; secretId: unknown }[] = [];
  const state = { secret: JSON.stringify({ username: USERNAME, password: PASSWORD }) };
  const server: Server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const parsed = JSON.parse(body || '{}') as { SecretId?: unknown };
      requests.push({ target, secretId: parsed.SecretId });
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || parsed.SecretId !== SECRET_ARN) {
        response.statusCode = 400;
        response.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
        return;
      }
      response.end(JSON.stringify({ ARN: SECRET_ARN, Name: 'ddb-cache-sync-cache', SecretString: state.secret, VersionId: 'v1', CreatedDate: 1_700_000_000 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get secret() {
      return state.secret;
    },
    set secret(value: string) {
      state.secret = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const KEYS = { pk: 'USER#42', sk: 'PROFILE' };
const ADA = { ...KEYS, type: 'User', id: '42', name: 'Ada', email: 'ada@example.com', passwordHash: 'never-cache-me' };
const ADA_MOVED = { ...ADA, email: 'ada@lovelace.example' };

describe('examples/handler/index.ts bundle (Valkey/Redis)', () => {
  let redis: RedisServer;
  let secrets: FakeSecretsManager;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // The template's RBAC user, as an ACL user: its access string is CacheAccessString's default.
    // The default user gets a password only the test knows, so nothing but the RBAC user's
    // credentials from the secret can write.
    redis = await startRedis({
      tls: true,
      password: 'admin-only-password-for-the-test',
      aclUsers: [{ name: USERNAME, password: PASSWORD, rules: ['~*', '+@all', '-@dangerous', '+info'] }],
    });
    secrets = await startFakeSecretsManager();
    env = lambdaEnv({
      CACHE_ENDPOINT: `127.0.0.1:${redis.port}`,
      CACHE_CLUSTER: 'false',
      CACHE_SECRET_ARN: SECRET_ARN,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      // TLS stays on (the default); trust the test CA the way Lambda trusts Amazon's.
      NODE_EXTRA_CA_CERTS: redis.tls?.caFile ?? '',
    });
  });

  afterAll(async () => {
    await redis?.stop();
    await secrets?.close();
  });

  it('applies a sample event over TLS as the RBAC user, with the password from Secrets Manager', async () => {
    await redis.cli('SET', `user-by-email:${ADA.email}`, 'stale');
    await redis.cli('SET', `user-by-email:${ADA_MOVED.email}`, 'stale');
    secrets.requests.length = 0;

    const first = event(insert(ADA, { keys: KEYS }));
    const second = event(modify(ADA, ADA_MOVED, { keys: KEYS }));
    const run = await invoke(redisBundle, env, first, second);

    expect(run.outcomes).toEqual([
      { ok: true, response: { batchItemFailures: [] } },
      { ok: true, response: { batchItemFailures: [] } },
    ]);
    expect(JSON.parse(await redis.cli('GET', 'user:42'))).toEqual({ id: '42', name: 'Ada', email: 'ada@lovelace.example' });
    const ttl = Number(await redis.cli('TTL', 'user:42'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect((await redis.cli('EXISTS', `user-by-email:${ADA.email}`)).trim()).toBe('0');
    expect((await redis.cli('EXISTS', `user-by-email:${ADA_MOVED.email}`)).trim()).toBe('0');
    // One cold start, one secret fetch, reused by the second invocation.
    expect(secrets.requests).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: SECRET_ARN }]);
    expect(run.output).not.toContain(PASSWORD);
  });

  it('runs the monitor bundle on the same stream: consistent keys count as checked, an unreadable table as unchecked, never a retry', async () => {
    const moved = event(modify(ADA, ADA_MOVED, { keys: KEYS }));
    expect((await invoke(redisBundle, env, event(insert(ADA, { keys: KEYS })), moved)).outcomes.every((o) => o.ok)).toBe(true);
    const monitorEnv = {
      ...env,
      MONITOR_GRACE_MS: '0',
      // Nothing listens there: a table read fails at once.
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1',
      AWS_MAX_ATTEMPTS: '1',
    };
    const metricsOf = (run: Run): Record<string, unknown> => {
      const line = run.output.split('\n').find((text) => text.includes('"StaleKeys"'));
      if (line === undefined) throw new Error(`no monitor EMF line in:\n${run.output}`);
      return JSON.parse(line) as Record<string, unknown>;
    };

    const consistent = await invoke(redisMonitorBundle, monitorEnv, moved);
    expect(consistent.outcomes).toEqual([{ ok: true, response: { batchItemFailures: [] } }]);
    expect(metricsOf(consistent)).toMatchObject({ Monitor: 'redis', StaleKeys: 0, UncheckedKeys: 0 });
    expect(Number(metricsOf(consistent)['CheckedKeys'])).toBeGreaterThan(0);

    // A payload that is not the record's makes the monitor ask the table, which it cannot reach.
    await redis.cli('SET', 'user:42', '{"id":"42","name":"Someone else"}');
    const unreadable = await invoke(redisMonitorBundle, monitorEnv, moved);
    expect(unreadable.outcomes).toEqual([{ ok: true, response: { batchItemFailures: [] } }]);
    expect(metricsOf(unreadable)).toMatchObject({ Monitor: 'redis', StaleKeys: 0, UncheckedKeys: 1 });
  });

  it('reports the earliest record as failed when the cache rejects the credentials', async () => {
    secrets.secret = JSON.stringify({ username: USERNAME, password: 'wrong-password-wrong-password' });
    try {
      const records = event(
        insert({ ...ADA, id: '43', pk: 'USER#43' }, { keys: { pk: 'USER#43', sk: 'PROFILE' } }),
        insert({ ...ADA, id: '44', pk: 'USER#44' }, { keys: { pk: 'USER#44', sk: 'PROFILE' } }),
      );
      const run = await invoke(redisBundle, env, records);
      const [outcome] = run.outcomes;
      expect(outcome?.ok).toBe(true);
      const failures = outcome?.ok === true ? outcome.response.batchItemFailures : [];
      expect(failures).toEqual([{ itemIdentifier: records.Records[0]?.dynamodb?.SequenceNumber }]);
      expect((await redis.cli('EXISTS', 'user:43')).trim()).toBe('0');
      expect(run.output).not.toContain('wrong-password-wrong-password');
    } finally {
      secrets.secret = JSON.stringify({ username: USERNAME, password: PASSWORD });
    }
  });

  it('fails the invocation, naming the setting, when the environment is incomplete', async () => {
    const { CACHE_ENDPOINT: _omitted, ...incomplete } = env;
    const run = await invoke(redisBundle, incomplete, event(insert(ADA, { keys: KEYS })));
    expect(run.outcomes).toEqual([{ ok: false, error: expect.stringContaining('CACHE_ENDPOINT is not set') }]);
  });

  it('fails the invocation when the secret cannot be read', async () => {
    const run = await invoke(redisBundle, { ...env, CACHE_SECRET_ARN: `${SECRET_ARN}-missing` }, event(insert(ADA, { keys: KEYS })));
    expect(run.outcomes).toEqual([{ ok: false, error: expect.stringMatching(/can't find the specified secret/) }]);
  });
});

describe('examples/handler/index.ts bundle (cluster protocol)', () => {
  let cluster: RedisClusterServers;

  beforeAll(async () => {
    cluster = await startRedisCluster({ nodes: 3 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('writes through a Redis Cluster from a single seed endpoint', async () => {
    const users = ['1', '2', '3', '4', '5', '6'].map((id) => ({ ...ADA, pk: `USER#${id}`, id, email: `u${id}@example.com` }));
    const env = lambdaEnv({ CACHE_ENDPOINT: `127.0.0.1:${cluster.ports[0] ?? 0}`, CACHE_CLUSTER: 'true', CACHE_TLS: 'false' });
    const run = await invoke(redisBundle, env, event(...users.map((user) => insert(user, { keys: { pk: user.pk, sk: 'PROFILE' } }))));
    expect(run.outcomes).toEqual([{ ok: true, response: { batchItemFailures: [] } }]);
    const owners = new Set<number>();
    for (const user of users) {
      const owner = await cluster.ownerOf(keySlot(`user:${user.id}`));
      owners.add(owner);
      expect(JSON.parse(await cluster.cli(owner, 'GET', `user:${user.id}`))).toEqual({ id: user.id, name: 'Ada', email: user.email });
    }
    expect(owners.size, 'the keys landed on more than one node').toBeGreaterThan(1);
  });
});

// --- Memcached handler ----------------------------------------------------------------------

describe('examples/handler/memcached.ts bundle (TLS)', () => {
  let certs: TestCertificates;
  let memcached: Awaited<ReturnType<typeof startMemcached>>;
  let discovery: TlsServer;
  let discoveryPort: number;
  const discoveryRequests: string[] = [];

  beforeAll(async () => {
    certs = await createTestCertificates();
    // In-transit encryption on, as the template sets it: the nodes and the configuration
    // endpoint speak TLS only.
    memcached = await startMemcached({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
    const [cert, key] = await Promise.all([readFile(certs.certFile), readFile(certs.keyFile)]);
    // ElastiCache Auto Discovery: the configuration endpoint answers `config get cluster`.
    discovery = createTlsServer({ cert, key }, (socket) => {
      socket.on('data', (chunk: Buffer) => {
        discoveryRequests.push(chunk.toString('utf8'));
        const payload = `1\n127.0.0.1|127.0.0.1|${memcached.node.port}\n`;
        socket.write(`CONFIG cluster 0 ${Buffer.byteLength(payload)}\r\n${payload}\r\nEND\r\n`);
      });
    });
    await new Promise<void>((resolve) => discovery.listen(0, '127.0.0.1', resolve));
    discoveryPort = (discovery.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await memcached?.stop();
    await new Promise<void>((resolve) => (discovery ? discovery.close(() => resolve()) : resolve()));
    await certs?.cleanup();
  });

  const tls = () => ({ tls: { ca: certs.ca } });

  async function get(key: string): Promise<string | undefined> {
    const reply = await textCommand(memcached.node.address, `get ${memcachedKey(key)}`, tls());
    const match = /^VALUE \S+ \d+ \d+\r\n([\s\S]*)\r\nEND\r\n$/.exec(reply);
    return match?.[1];
  }

  it('discovers the nodes over TLS and applies a sample event over TLS', async () => {
    expect(await textCommand(memcached.node.address, `ms ${memcachedKey(`user-by-email:${ADA.email}`)} 5\r\nstale`, tls())).toBe('HD\r\n');
    // MEMCACHED_TLS unset: TLS is the default. The test CA stands in for Amazon's.
    const env = lambdaEnv({ MEMCACHED_CONFIG_ENDPOINT: `127.0.0.1:${discoveryPort}`, NODE_EXTRA_CA_CERTS: certs.caFile });
    const run = await invoke(memcachedBundle, env, event(insert(ADA, { keys: KEYS }), modify(ADA, ADA_MOVED, { keys: KEYS })));
    expect(run.outcomes).toEqual([{ ok: true, response: { batchItemFailures: [] } }]);
    expect(discoveryRequests).toEqual(['config get cluster\r\n']);
    expect(JSON.parse((await get('user:42')) ?? 'null')).toEqual({ id: '42', name: 'Ada', email: 'ada@lovelace.example' });
    expect(await get(`user-by-email:${ADA.email}`)).toBeUndefined();
  });

  it('fails the invocation, naming Auto Discovery, when the endpoint certificate is not trusted', async () => {
    const env = lambdaEnv({ MEMCACHED_CONFIG_ENDPOINT: `127.0.0.1:${discoveryPort}` });
    const run = await invoke(memcachedBundle, env, event(insert(ADA, { keys: KEYS })));
    expect(run.outcomes).toEqual([{ ok: false, error: expect.stringMatching(/Auto Discovery at 127\.0\.0\.1:\d+ failed: .*certificate/) }]);
  });

  it('fails the invocation, naming the fix, when the endpoint is not an ElastiCache configuration endpoint', async () => {
    const env = lambdaEnv({ MEMCACHED_CONFIG_ENDPOINT: memcached.node.address, NODE_EXTRA_CA_CERTS: certs.caFile });
    const run = await invoke(memcachedBundle, env, event(insert(ADA, { keys: KEYS })));
    expect(run.outcomes).toEqual([{ ok: false, error: expect.stringContaining('does not support "config get cluster"') }]);
  });
});

describe('examples/handler/memcached.ts bundle (plain TCP, MEMCACHED_TLS=false)', () => {
  const memcached = useMemcached();

  it('writes to a fixed server list', async () => {
    const env = lambdaEnv({ MEMCACHED_SERVERS: memcached.server.servers, MEMCACHED_TLS: 'false' });
    const run = await invoke(memcachedBundle, env, event(insert(ADA, { keys: KEYS })));
    expect(run.outcomes).toEqual([{ ok: true, response: { batchItemFailures: [] } }]);
    const reply = await textCommand(memcached.server.node.address, `get ${memcachedKey('user:42')}`);
    expect(reply).toContain('"email":"ada@example.com"');
  });
});
