import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheAdapter, CacheCommand } from '../../src/core/commands.js';
import { ValueTooLargeError } from '../../src/errors.js';
import { memcachedAdapter, memcachedKey } from '../../src/adapters/memcached/index.js';
import { type MemcachedPool, type MemcachedNode, memcachedHas, memcachedTtl, startCountingProxy, startMemcached } from '../helpers/memcached-servers.js';

const DAY = 86_400;
const quiet = { log: () => undefined };

let memcached: MemcachedPool & { node: MemcachedNode };
let adapter: CacheAdapter;
let reader: memjs.Client;
let n = 0;
const key = (name: string) => `it:${process.pid}:${++n}:${name}`;

beforeAll(async () => {
  memcached = await startMemcached();
  adapter = memcachedAdapter({ servers: memcached.servers });
  // What an application reading the cache would use.
  reader = memjs.Client.create(memcached.servers, { logger: quiet, retries: 1 });
});

afterAll(async () => {
  reader?.close();
  await adapter?.close();
  await memcached?.stop();
});

describe('memcachedAdapter TTLs on a real server', () => {
  it('stores a TTL over 30 days as an absolute time, so the item lives that long', async () => {
    const k = key('40-days');
    expect(await adapter.execute([{ kind: 'set', key: k, value: 'v', ttlSeconds: 40 * DAY }])).toEqual([{ ok: true }]);
    const left = await memcachedTtl(memcached.node.address, memcachedKey(k));
    expect(left).toBeGreaterThan(40 * DAY - 10);
    // memcached's clock advances once a second, so it can be up to a second behind ours.
    expect(left).toBeLessThanOrEqual(40 * DAY + 1);
    expect(await adapter.get(k)).toBe('v');
  });

  it('(why) memcached reads a relative expiration over 30 days as a UNIX time in 1970: the item is gone at once', async () => {
    const k = key('raw-40-days');
    await reader.set(k, 'v', { expires: 40 * DAY });
    expect((await reader.get(k)).value).toBeNull();
    // Exactly 30 days is still relative.
    await reader.set(k, 'v', { expires: 30 * DAY });
    expect((await reader.get(k)).value?.toString()).toBe('v');
  });

  it('stores a set without TTL with no expiry at all', async () => {
    const k = key('no-ttl');
    await adapter.execute([
      { kind: 'set', key: k, value: 'v', ttlSeconds: 60 },
      { kind: 'set', key: k, value: 'v2' },
    ]);
    expect(await memcachedHas(memcached.node.address, k)).toBe(true);
    expect(await memcachedTtl(memcached.node.address, k)).toBeUndefined();
  });

  it('(why) memjs sends its default expires in place of 0, which is why a client with a default is refused', async () => {
    const withDefault = memjs.Client.create(memcached.servers, { logger: quiet, expires: 100 });
    try {
      const k = key('memjs-default');
      await withDefault.set(k, 'v', { expires: 0 });
      const left = await memcachedTtl(memcached.node.address, k);
      expect(left).toBeGreaterThan(90);
      expect(left).toBeLessThanOrEqual(100);
      expect(() => memcachedAdapter({ client: withDefault })).toThrow(/expires: is 100/);
    } finally {
      withDefault.close();
    }
  });
});

describe('memcachedAdapter keys on a real server', () => {
  it('maps unsafe keys so that a reader using memcachedKey finds the values', async () => {
    const keys = [key('user:Zoë Smith'), key('with space'), key('ctl\u0001\u007f'), key('x'.repeat(300)), key('🔑'), key('')];
    const commands: CacheCommand[] = keys.map((k, i) => ({ kind: 'set', key: k, value: `value-${i}` }));
    expect((await adapter.execute(commands)).every((r) => r.ok)).toBe(true);
    for (const [i, k] of keys.entries()) {
      expect((await reader.get(memcachedKey(k))).value?.toString()).toBe(`value-${i}`);
      expect(await adapter.get(k)).toBe(`value-${i}`);
    }
    // The text protocol, which other languages' clients use, reaches the same items.
    expect(await memcachedHas(memcached.node.address, memcachedKey(keys[1] ?? ''))).toBe(true);
  });

  it('(why) the server refuses a key over 250 bytes', async () => {
    await expect(reader.set('k'.repeat(251), 'v', {})).rejects.toThrow();
  });
});

describe('memcachedAdapter values too large for the server', () => {
  let small: MemcachedPool;
  let smallAdapter: CacheAdapter;
  beforeAll(async () => {
    small = await startMemcached({ maxItemSize: 1024 });
    smallAdapter = memcachedAdapter({ servers: small.servers });
  });
  afterAll(async () => {
    await smallAdapter?.close();
    await small?.stop();
  });

  it('reports the refused set, removes the old value, and applies the rest of the batch', async () => {
    const big = key('big');
    const other = key('other');
    await smallAdapter.execute([{ kind: 'set', key: big, value: 'old' }]);
    const results = await smallAdapter.execute([
      { kind: 'set', key: big, value: 'x'.repeat(2000) },
      { kind: 'set', key: other, value: 'fine' },
    ]);
    expect(results[0]?.ok).toBe(false);
    expect(results[0] && !results[0].ok && results[0].error).toBeInstanceOf(ValueTooLargeError);
    expect(results[0] && !results[0].ok && results[0].error).toMatchObject({ refusedBy: 'server', bytes: 2000 });
    expect(results[1]).toEqual({ ok: true });
    expect(await smallAdapter.get(big)).toBeUndefined();
    expect(await smallAdapter.get(other)).toBe('fine');
  });

  it('refuses a value over maxValueBytes before sending it and deletes the old value', async () => {
    const limited = memcachedAdapter({ servers: small.servers, maxValueBytes: 100 });
    try {
      const k = key('over-max');
      await limited.execute([{ kind: 'set', key: k, value: 'old' }]);
      const [result] = await limited.execute([{ kind: 'set', key: k, value: 'y'.repeat(101) }]);
      expect(result && !result.ok && result.error).toMatchObject({ refusedBy: 'adapter', removed: true, limit: 100 });
      expect(await limited.get(k)).toBeUndefined();
    } finally {
      await limited.close();
    }
  });
});

describe('memcachedAdapter batches', () => {
  it('sends every command of a batch before it needs any reply', async () => {
    const commands: CacheCommand[] = Array.from({ length: 500 }, (_, i) =>
      i % 5 === 4 ? { kind: 'delete', key: key(`p${i - 1}`) } : { kind: 'set', key: key(`p${i}`), value: `v${i}` },
    );
    // Replies are held until all 500 requests arrived: a client that awaited each reply would
    // stall here and time out.
    const proxy = await startCountingProxy(memcached.node, { holdRepliesUntil: commands.length });
    const proxied = memcachedAdapter({ servers: proxy.address, timeoutMs: 5_000 });
    try {
      const results = await proxied.execute(commands);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(proxy.stats.requestsBeforeFirstReply).toBe(500);
      expect(proxy.stats.connections).toBe(1);
    } finally {
      await proxied.close();
      await proxy.close();
    }
  });

  it('reuses one connection across batches', async () => {
    const proxy = await startCountingProxy(memcached.node);
    const proxied = memcachedAdapter({ servers: proxy.address });
    try {
      for (let batch = 0; batch < 3; batch++) {
        const results = await proxied.execute([{ kind: 'set', key: key(`reuse-${batch}`), value: 'v' }]);
        expect(results).toEqual([{ ok: true }]);
      }
      expect(proxy.stats.connections).toBe(1);
    } finally {
      await proxied.close();
      await proxy.close();
    }
  });
});
