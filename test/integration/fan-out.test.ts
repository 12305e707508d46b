/**
 * Large fan-out against real servers (#18): one record whose rule owns 130,000 keys is planned
 * without a stack overflow and, with `maxKeysPerRecord` raised above it, applied by the Redis and
 * Memcached adapters; at the default cap (100,000) the record is refused instead, naming the rule.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { useMemcached } from '../helpers/memcached-fixtures.js';
import { event, insert } from '../helpers/records.js';
import { useStandaloneAndCluster } from '../helpers/redis-fixtures.js';

const FAN_OUT = 130_000;
const rule: Rule = {
  name: 'every-page',
  table: 'App',
  key: (item) => Array.from({ length: FAN_OUT }, (_, i) => `fan:${String(item['pk'])}:${i}`),
  strategy: 'write-through',
  ttlSeconds: 600,
};

async function applyFanOut(adapter: CacheAdapter, maxKeysPerRecord?: number) {
  const processor = createStreamProcessor({
    adapter,
    rules: [rule],
    logger: false,
    metrics: false,
    ...(maxKeysPerRecord === undefined ? {} : { maxKeysPerRecord }),
  });
  return processor.process(event(insert({ pk: 'p1', name: 'N' })));
}

describe('a record that fans out to 130,000 keys', () => {
  const redis = useStandaloneAndCluster();
  const memcached = useMemcached();

  it('is applied whole on standalone Redis: every key holds the value', async () => {
    const adapter = redisAdapter({ url: `redis://${redis.server.host}:${redis.server.port}`, commandTimeoutMs: 30_000 });
    const raw = new Redis(redis.server.port, redis.server.host);
    try {
      const result = await applyFanOut(adapter, 200_000);
      expect(result.records[0]?.error).toBeUndefined();
      expect(result.batchItemFailures).toEqual([]);
      expect(result.metrics.Commands).toBe(FAN_OUT);
      expect(await raw.dbsize()).toBe(FAN_OUT);
      expect(await raw.get(`fan:p1:${FAN_OUT - 1}`)).toBe(JSON.stringify({ pk: 'p1', name: 'N' }));
    } finally {
      raw.disconnect();
      await adapter.close();
    }
  }, 120_000);

  it('is applied whole on Memcached', async () => {
    const adapter = memcachedAdapter({ servers: memcached.server.servers, timeoutMs: 30_000, deadlineMs: 60_000 });
    try {
      const result = await applyFanOut(adapter, 200_000);
      expect(result.batchItemFailures).toEqual([]);
      expect(await adapter.get(`fan:p1:0`)).toBe(JSON.stringify({ pk: 'p1', name: 'N' }));
      expect(await adapter.get(`fan:p1:${FAN_OUT - 1}`)).toBe(JSON.stringify({ pk: 'p1', name: 'N' }));
    } finally {
      await adapter.close();
    }
  }, 120_000);

  it('is refused above the default maxKeysPerRecord (100,000), naming the rule and the count, and nothing is sent', async () => {
    const raw = new Redis(redis.server.port, redis.server.host);
    const adapter = redisAdapter({ url: `redis://${redis.server.host}:${redis.server.port}` });
    try {
      await raw.flushall();
      const result = await applyFanOut(adapter);
      expect(result.batchItemFailures).toHaveLength(1);
      const error = result.records[0]?.error;
      expect(error?.rule).toBe('every-page');
      expect(error?.message).toContain('130000');
      expect(await raw.dbsize()).toBe(0);
    } finally {
      raw.disconnect();
      await adapter.close();
    }
  }, 60_000);
});
