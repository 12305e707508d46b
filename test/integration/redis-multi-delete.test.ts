import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, RULES } from '../../bench/lib/workload.js';
import { keySlot, redisAdapter } from '../../src/adapters/redis/index.js';
import { MAX_KEYS_PER_DEL } from '../../src/adapters/redis/multi-delete.js';
import type { CacheAdapter, CacheCommand } from '../../src/core/commands.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { useClusterWithClient } from '../helpers/redis-fixtures.js';
import { type RedisServer, startRedis } from '../helpers/redis-servers.js';

/** Calls per command name since the last CONFIG RESETSTAT, from INFO commandstats. */
async function commandCalls(cli: (...args: string[]) => Promise<string>): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const match of (await cli('INFO', 'commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) calls[match[1] as string] = Number(match[2]);
  return calls;
}

describe('redisAdapter multi-key DEL: commands per batch, standalone', () => {
  let redis: RedisServer;
  let adapter: CacheAdapter;
  let raw: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    adapter = redisAdapter({ url: `redis://127.0.0.1:${redis.port}`, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
    raw = new Redis(redis.port, '127.0.0.1');
  });
  afterAll(async () => {
    raw?.disconnect();
    await adapter?.close();
    await redis?.stop();
  });

  it.each([1, 2, 512, 513, 10_000])(`deletes the keys of an invalidate batch of %i records with ceil(N / ${MAX_KEYS_PER_DEL}) DEL commands`, async (size) => {
    const event = makeEvent(size, 42);
    const keys = event.Records.map((record) => `user:${String(record.dynamodb?.Keys?.['pk']?.S).slice('USER#'.length)}`);
    expect(new Set(keys).size).toBe(size);
    await raw.mset(...keys.flatMap((key) => [key, 'cached']));
    const handler = createStreamHandler({ adapter, rules: RULES.invalidate, logger: false, metrics: false });
    await redis.cli('CONFIG', 'RESETSTAT');
    expect((await handler(event)).batchItemFailures).toEqual([]);
    const calls = await commandCalls(redis.cli);
    expect(calls['del']).toBe(Math.ceil(size / MAX_KEYS_PER_DEL));
    expect(calls['unlink']).toBeUndefined();
    expect(await raw.exists(...keys)).toBe(0);
  });
});

describe('redisAdapter multi-key DEL on a cluster while the slot migrates', () => {
  const redis = useClusterWithClient();

  it('resends a multi-key DEL refused with TRYAGAIN key by key, following ASK, and reports every delete ok', async () => {
    const tag = '{split}';
    const slot = keySlot(tag);
    const keys = Array.from({ length: 6 }, (_, i) => `${tag}:${i}`);
    const adapter = redisAdapter({ url: redis.cluster.url, cluster: true });
    try {
      for (const key of keys) await redis.raw.set(key, 'cached');
      const from = await redis.cluster.ownerOf(slot);
      const to = redis.cluster.ports.find((port) => port !== from) ?? 0;
      await redis.cluster.beginSlotMigration(slot, to);
      // Half the keys move: a DEL of all six is refused (TRYAGAIN) by the source while the slot migrates.
      await redis.cluster.cli(from, 'MIGRATE', redis.cluster.host, String(to), '', '0', '5000', 'KEYS', ...keys.slice(0, 3));
      await redis.cluster.cli(from, 'CONFIG', 'RESETSTAT');
      const commands: CacheCommand[] = keys.map((key) => ({ kind: 'delete', key }));
      const results = await adapter.execute(commands);
      expect(results).toEqual(commands.map(() => ({ ok: true })));
      // The source refused the merged DEL (TRYAGAIN; ioredis itself retries a pipeline whose every
      // reply is the same TRYAGAIN, up to its redirection limit), then ran the single-key DELs of its three keys.
      expect(Number((await redis.cluster.cli(from, 'INFO', 'errorstats')).match(/errorstat_TRYAGAIN:count=(\d+)/)?.[1])).toBeGreaterThan(0);
      expect((await redis.cluster.cli(from, 'INFO', 'commandstats')).match(/cmdstat_del:calls=(\d+)/)?.[1]).toBe('3');
      await redis.cluster.migrateSlotKeys(slot, to);
      await redis.cluster.finishSlotMigration(slot, to);
      for (const key of keys) expect(await redis.raw.get(key)).toBeNull();
    } finally {
      await adapter.close();
    }
  });
});
