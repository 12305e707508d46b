/**
 * Budget: a warm invocation costs one round trip per cache node for a 10,000-record batch, with
 * no new connection. Counted at a delay proxy (bench/lib/delay-proxy.ts) with a 500 ms RTT: a
 * flight is client bytes sent after a reply was delivered and at least one RTT after the
 * previous client bytes, and a client that pauses that long between writes without waiting for
 * the server (GC, a loaded machine) is implausible, so a flight counted is a wait for the server.
 * No wall-clock time is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelayProxy, type DelayProxy } from '../../bench/lib/delay-proxy.js';
import { commandsOf } from '../../bench/lib/variants.js';
import { makeEvent, rules } from '../../bench/lib/workload.js';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import { MAX_KEYS_PER_DEL } from '../../src/adapters/redis/multi-delete.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { KeyRule, Rule } from '../../src/core/rules.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { startMemcachedPool, type MemcachedPool } from '../helpers/memcached-servers.js';
import { startRedis, startRedisCluster, type RedisClusterServers, type RedisServer } from '../helpers/redis-servers.js';

const DELAY_MS = 250;
const BATCH = makeEvent(10_000);
const WARM_UP = makeEvent(10, 7);

/** The workload's user key, versioned by the item's `version` attribute (Lua scripts on Redis). */
const VERSIONED_RULES: Rule[] = [{ ...(rules[0] as KeyRule), strategy: 'versioned', version: { attribute: 'version' }, ttlSeconds: 3600 }];

async function runBatch(adapter: CacheAdapter, batchRules: Rule[] = rules) {
  const handler = createStreamHandler({ adapter, rules: batchRules, logger: false, metrics: false });
  expect((await handler(WARM_UP)).batchItemFailures).toEqual([]);
  return async (proxies: readonly DelayProxy[]) => {
    for (const proxy of proxies) proxy.reset();
    expect((await handler(BATCH)).batchItemFailures).toEqual([]);
    return proxies.map((proxy) => proxy.counts());
  };
}

/** Put a delay proxy in front of each node. */
function delayProxiesFor(nodes: readonly { port: number }[]): Promise<DelayProxy[]> {
  return Promise.all(nodes.map((node) => startDelayProxy({ targetPort: node.port, oneWayDelayMs: DELAY_MS })));
}

/** Run the warm batch through a multi-node adapter: each node gets its share of the keys in one flight. */
async function expectOneFlightPerNode(adapter: CacheAdapter, proxies: readonly DelayProxy[]): Promise<void> {
  const run = await runBatch(adapter);
  const counts = await run(proxies);
  for (const node of counts) {
    expect(node.connections).toBe(0);
    expect(node.flights).toBe(1);
    // Every node got a share of the keys.
    expect(node.requestBytes).toBeGreaterThan(1_000 * 300);
  }
  const { key, id } = lastWrite();
  expect(JSON.parse((await adapter.get(key)) ?? 'null')).toMatchObject({ id });
}

/** The key and stored value of the batch's last written user, to prove the batch applied. */
function lastWrite(): { key: string; id: string } {
  const record = [...BATCH.Records].reverse().find((r) => r.eventName !== 'REMOVE');
  const id = record?.dynamodb?.NewImage?.['id']?.S;
  if (id === undefined) throw new Error('batch has no write');
  return { key: `user:${id}`, id };
}

describe('round trips per batch: Redis standalone', () => {
  let redis: RedisServer;
  let proxy: DelayProxy;
  let adapter: CacheAdapter;
  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startDelayProxy({ targetPort: redis.port, oneWayDelayMs: DELAY_MS });
    adapter = redisAdapter({ url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await adapter?.close();
    await proxy?.close();
    await redis?.stop();
  });

  it('sends a warm 10,000-record batch in one flight on the open connection', async () => {
    const run = await runBatch(adapter);
    const [counts] = await run([proxy]);
    expect(counts?.connections).toBe(0);
    expect(counts?.flights).toBe(1);
    // The whole batch went through the proxy (about 400 bytes per command).
    expect(counts?.requestBytes).toBeGreaterThan(10_000 * 300);
    const { key, id } = lastWrite();
    expect(JSON.parse((await redis.cli('GET', key)).trim())).toMatchObject({ id });
  });

  it('sends a warm versioned batch in one flight too, scripts loaded in the same pipeline', async () => {
    await redis.cli('SCRIPT', 'FLUSH');
    const run = await runBatch(adapter, VERSIONED_RULES);
    await redis.cli('SCRIPT', 'FLUSH'); // the measured batch must load its scripts again
    const [counts] = await run([proxy]);
    expect(counts?.connections).toBe(0);
    expect(counts?.flights).toBe(1);
    const { key, id } = lastWrite();
    expect(await redis.cli('GET', key)).toContain(id);
  });
});

describe('commands per batch when keys repeat: Redis standalone', () => {
  let redis: RedisServer;
  let adapter: CacheAdapter;
  beforeAll(async () => {
    redis = await startRedis();
    adapter = redisAdapter({ url: `redis://127.0.0.1:${redis.port}`, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await adapter?.close();
    await redis?.stop();
  });

  /** Calls per command name since the last CONFIG RESETSTAT, from INFO commandstats. */
  async function commandCalls(): Promise<Record<string, number>> {
    const calls: Record<string, number> = {};
    for (const match of (await redis.cli('INFO', 'commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) calls[match[1] as string] = Number(match[2]);
    return calls;
  }

  it('sends one command per key when every key appears twice in a 10,000-record batch (deleted keys merged into DELs)', async () => {
    const repeated = makeEvent(10_000, 42, { repeatKeys: true });
    // Each key's final effect (last write wins): a SET each, the deleted keys in DELs of up to MAX_KEYS_PER_DEL.
    const final = new Map(commandsOf(repeated, rules).map((command) => [command.key, command.kind]));
    const deleted = [...final.values()].filter((kind) => kind === 'delete').length;
    expect(final.size).toBe(5_000);
    const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });
    expect((await handler(WARM_UP)).batchItemFailures).toEqual([]);
    await redis.cli('CONFIG', 'RESETSTAT');
    expect((await handler(repeated)).batchItemFailures).toEqual([]);
    const calls = await commandCalls();
    expect(calls['set'] ?? 0).toBe(5_000 - deleted);
    expect(calls['del'] ?? 0).toBe(Math.ceil(deleted / MAX_KEYS_PER_DEL));
  });
});

describe('round trips per batch: Memcached, two nodes', () => {
  let pool: MemcachedPool;
  let proxies: DelayProxy[];
  let adapter: CacheAdapter;
  beforeAll(async () => {
    pool = await startMemcachedPool(2);
    proxies = await delayProxiesFor(pool.nodes);
    adapter = memcachedAdapter({ servers: proxies.map((p) => `127.0.0.1:${p.port}`).join(','), timeoutMs: 30_000, connectTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await adapter?.close();
    await Promise.all((proxies ?? []).map((p) => p.close()));
    await pool?.stop();
  });

  it('sends a warm 10,000-record batch in one flight per node', async () => {
    await expectOneFlightPerNode(adapter, proxies);
  });
});

describe('round trips per batch: Redis Cluster, three nodes', () => {
  let cluster: RedisClusterServers;
  let proxies: DelayProxy[];
  let adapter: CacheAdapter;
  beforeAll(async () => {
    cluster = await startRedisCluster({ nodes: 3 });
    proxies = await delayProxiesFor(cluster.nodes);
    // The nodes announce their real ports; natMap sends the client to each node's proxy instead.
    const natMap = Object.fromEntries(cluster.nodes.map((node, i) => [`${node.host}:${node.port}`, { host: '127.0.0.1', port: proxies[i]?.port }]));
    adapter = redisAdapter({
      url: `redis://127.0.0.1:${proxies[0]?.port}`,
      cluster: true,
      commandTimeoutMs: 30_000,
      connectTimeoutMs: 30_000,
      clientOptions: { natMap },
    });
  });
  afterAll(async () => {
    await adapter?.close();
    await Promise.all((proxies ?? []).map((p) => p.close()));
    await cluster?.stop();
  });

  it('sends a warm 10,000-record batch in one flight per node', async () => {
    await expectOneFlightPerNode(adapter, proxies);
  });
});
