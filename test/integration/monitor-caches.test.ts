/**
 * The monitor against real Redis and Memcached: the handler applies a batch, an out-of-band
 * writer plants an older value, and the monitor finds exactly that key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { AttributeMap, Rule } from '../../src/core/rules.js';
import { valueEnvelope } from '../../src/core/versioned.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { createConsistencyMonitor, keyHash } from '../../src/monitor/index.js';
import { startMemcachedPool, type MemcachedPool } from '../helpers/memcached-servers.js';
import { av, event, modify } from '../helpers/records.js';
import { startRedis, type RedisServer } from '../helpers/redis-servers.js';

let redis: RedisServer;
let pool: MemcachedPool;
const adapters: { name: string; adapter: CacheAdapter }[] = [];
let run = 0;

beforeAll(async () => {
  redis = await startRedis();
  pool = await startMemcachedPool(2);
  adapters.push({ name: 'redis', adapter: redisAdapter({ url: redis.url }) }, { name: 'memcached', adapter: memcachedAdapter({ servers: pool.servers }) });
});
afterAll(async () => {
  for (const { adapter } of adapters) await adapter.close();
  await redis?.stop();
  await pool?.stop();
});

const past = () => Math.floor(Date.now() / 1000) - 60;

function scenario(strategy: 'write-through' | 'versioned') {
  const prefix = `mon-${process.pid}-${++run}:`;
  const rule: Rule =
    strategy === 'versioned'
      ? { name: 'items', key: (i) => `${prefix}${String(i['pk'])}`, strategy, version: 'sequenceNumber' }
      : { name: 'items', key: (i) => `${prefix}${String(i['pk'])}`, strategy };
  const items: Record<string, { pk: string; v: number }> = {};
  const records = Array.from({ length: 20 }, (_, i) => {
    const pk = `item-${i}`;
    items[pk] = { pk, v: 2 };
    return modify({ pk, v: 1 }, { pk, v: 2 }, { createdAt: past(), sequenceNumber: String(1_000 + i) });
  });
  const load = async (_table: string, keys: AttributeMap) => {
    const item = items[(keys['pk'] as { S: string }).S];
    return item === undefined ? undefined : av(item);
  };
  return { prefix, rule, records: event(...records), load };
}

describe.each(['redis', 'memcached'])('consistency monitor on %s', (name) => {
  const adapterOf = () => (adapters.find((a) => a.name === name) as { adapter: CacheAdapter }).adapter;

  it('reports 0 stale keys after the handler applied a batch', async () => {
    const adapter = adapterOf();
    const { rule, records, load } = scenario('write-through');
    const applied = await createStreamProcessor({ adapter, rules: [rule], logger: false, metrics: false }).process(records);
    expect(applied.failedIndex).toBeUndefined();

    const report = await createConsistencyMonitor({ adapter, rules: [rule], load, graceMs: 0, confirmMs: 0, logger: false, metrics: false }).check(records);

    expect(report).toMatchObject({ checked: 20, stale: 0, unchecked: 0 });
  });

  it('always finds a planted stale write-through entry, and only that one', async () => {
    const adapter = adapterOf();
    const { prefix, rule, records, load } = scenario('write-through');
    await createStreamProcessor({ adapter, rules: [rule], logger: false, metrics: false }).process(records);
    await adapter.execute([{ kind: 'set', key: `${prefix}item-7`, value: JSON.stringify({ pk: 'item-7', v: 1 }) }]);

    const report = await createConsistencyMonitor({ adapter, rules: [rule], load, graceMs: 0, confirmMs: 10, logger: false, metrics: false }).check(records);

    expect(report).toMatchObject({ checked: 20, stale: 1, unchecked: 0 });
    expect(report.findings.map((f) => f.keyHash)).toEqual([keyHash(`${prefix}item-7`)]);
  });

  it('always finds a planted older versioned entry, and repairs it on request', async () => {
    const adapter = adapterOf();
    const { prefix, rule, records, load } = scenario('versioned');
    await createStreamProcessor({ adapter, rules: [rule], logger: false, metrics: false }).process(records);
    // A late writer without the version check (a replayed old handler build) puts an older value back.
    await adapter.execute([{ kind: 'set', key: `${prefix}item-3`, value: valueEnvelope('900', JSON.stringify({ pk: 'item-3', v: 1 })) }]);

    const report = await createConsistencyMonitor({
      adapter,
      rules: [rule],
      load,
      graceMs: 0,
      confirmMs: 0,
      logger: false,
      metrics: false,
      repair: true,
    }).check(records);

    expect(report).toMatchObject({ checked: 20, stale: 1, repaired: 1 });
    expect(report.findings[0]).toMatchObject({ keyHash: keyHash(`${prefix}item-3`), reason: 'older-version' });
    const again = await createConsistencyMonitor({ adapter, rules: [rule], load, graceMs: 0, confirmMs: 0, logger: false, metrics: false }).check(records);
    expect(again).toMatchObject({ checked: 20, stale: 0 });
  });

  it('counts keys as unchecked, never stale, when the cache server is unreachable', async () => {
    const { rule, records, load } = scenario('write-through');
    const dead =
      name === 'redis'
        ? redisAdapter({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200, connectTimeoutMs: 200 })
        : memcachedAdapter({ servers: '127.0.0.1:1', timeoutMs: 200, connectTimeoutMs: 200 });
    try {
      const report = await createConsistencyMonitor({ adapter: dead, rules: [rule], load, graceMs: 0, confirmMs: 0, logger: false, metrics: false }).check(
        records,
      );
      expect(report).toMatchObject({ checked: 0, stale: 0, unchecked: 20 });
    } finally {
      await dead.close();
    }
  });
});
