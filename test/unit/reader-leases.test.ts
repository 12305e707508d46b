import { describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
import { ConfigError } from '../../src/errors.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { createCacheReader } from '../../src/reader/index.js';
import { event, modify, remove } from '../helpers/records.js';

function gate<T>() {
  let open: (value: T) => void = () => {};
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

const rule = (strategy: Rule['strategy'], extra: Partial<Rule> = {}): Rule =>
  ({ key: (i) => `user:${String(i['pk'])}`, strategy, ...(strategy === 'versioned' ? { version: 'sequenceNumber' } : {}), ...extra }) as Rule;

describe('createCacheReader', () => {
  it('reads values, plain values, and treats tombstones and leases as misses', async () => {
    const cache = memoryAdapter();
    const reader = createCacheReader({ adapter: cache });
    await cache.execute([
      { kind: 'set-versioned', key: 'a', value: '{"x":1}', version: '1' },
      { kind: 'set', key: 'b', value: '{"x":2}' },
      { kind: 'delete-versioned', key: 'c', version: '1', tombstoneTtlSeconds: 60 },
    ]);
    await cache.lease('d', 'tok', 1000);
    expect(await reader.get('a')).toEqual({ x: 1 });
    expect(await reader.get('b')).toEqual({ x: 2 });
    expect(await reader.get('c')).toBeUndefined();
    expect(await reader.get('d')).toBeUndefined();
    expect(await reader.get('e')).toBeUndefined();
  });

  for (const [name, r] of [
    ['versioned write-through', rule('versioned')],
    ['versioned tombstones', rule('versioned', { writes: 'tombstone' })],
    ['plain invalidate', rule('invalidate')],
  ] as const) {
    it(`drops a late fill of old data after a stream write (${name})`, async () => {
      const cache = memoryAdapter();
      const stream = createStreamProcessor({ adapter: cache, rules: [r], logger: false, metrics: false });
      const reader = createCacheReader({ adapter: cache });
      const loaded = gate<{ pk: string; n: number }>();
      const loading = gate<void>();
      let loads = 0;
      // The reader misses and starts loading v1 from the table...
      const read = reader.getOrLoad('user:a', () => {
        loads++;
        loading.open();
        return loaded.promise;
      });
      await loading.promise;
      // ...a writer commits v2 and the stream applies it...
      await stream.process(event(modify({ pk: 'a', n: 1 }, { pk: 'a', n: 2 })));
      // ...then the reader's load returns the old v1.
      loaded.open({ pk: 'a', n: 1 });
      expect(await read).toEqual({ pk: 'a', n: 1 });
      expect(loads).toBe(1);
      const stored = await cache.get('user:a');
      const entry = stored === undefined ? undefined : decodeEnvelope(stored);
      if (r.strategy === 'versioned' && r.writes !== 'tombstone') expect(entry).toMatchObject({ kind: 'value', payload: '{"pk":"a","n":2}' });
      else expect(entry?.kind === 'value' || entry?.kind === 'plain').toBe(false);
      // The next reader loads fresh data.
      expect(await reader.getOrLoad('user:a', async () => ({ pk: 'a', n: 2 }))).toEqual({ pk: 'a', n: 2 });
      expect(await reader.get('user:a')).toEqual({ pk: 'a', n: 2 });
    });
  }

  it('loads once for concurrent misses on one key', async () => {
    const cache = memoryAdapter();
    const reader = createCacheReader({ adapter: cache, waitMs: 5_000, pollMs: 2 });
    const lease = vi.spyOn(cache, 'lease');
    const loaded = gate<{ n: number }>();
    let loads = 0;
    const reads = Array.from({ length: 20 }, () =>
      reader.getOrLoad('k', () => {
        loads++;
        return loaded.promise;
      }),
    );
    // Every reader has missed and asked for the lease (one token each) before the load returns.
    await vi.waitFor(() => expect(new Set(lease.mock.calls.map(([, token]) => token)).size).toBe(20), { timeout: 5_000, interval: 2 });
    loaded.open({ n: 1 });
    expect(await Promise.all(reads)).toEqual(Array.from({ length: 20 }, () => ({ n: 1 })));
    expect(loads).toBe(1);
  });

  it('stops waiting after waitMs and loads without filling', async () => {
    const cache = memoryAdapter();
    await cache.lease('k', 'someone-else', 60_000);
    const reader = createCacheReader({ adapter: cache, waitMs: 20, pollMs: 5 });
    expect(await reader.getOrLoad('k', async () => ({ n: 1 }))).toEqual({ n: 1 });
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toMatchObject({ kind: 'lease', token: 'someone-else' });
  });

  it('labels the fill with the loaded version, so older stream records are refused', async () => {
    const cache = memoryAdapter();
    const reader = createCacheReader({ adapter: cache });
    await reader.getOrLoad('k', async () => ({ n: 5, v: 5 }), { versionOf: (item) => item.v });
    await cache.execute([{ kind: 'set-versioned', key: 'k', value: '{"n":4,"v":4}', version: '4' }]);
    expect(await reader.get('k')).toEqual({ n: 5, v: 5 });
  });

  it('does not cache "not found", and gives the lease back', async () => {
    const cache = memoryAdapter();
    const stream = createStreamProcessor({ adapter: cache, rules: [rule('versioned')], logger: false, metrics: false });
    await stream.process(event(remove({ pk: 'a' })));
    const reader = createCacheReader({ adapter: cache });
    expect(await reader.getOrLoad('user:a', async () => undefined)).toBeUndefined();
    expect(decodeEnvelope((await cache.get('user:a')) ?? '')).toMatchObject({ kind: 'tombstone' });
  });

  it('serves from the table when the cache fails, and reports it', async () => {
    const broken: CacheAdapter = { ...memoryAdapter(), get: async () => Promise.reject(new Error('down')) };
    const errors: string[] = [];
    const reader = createCacheReader({ adapter: broken, onCacheError: (_, op) => errors.push(op) });
    expect(await reader.getOrLoad('k', async () => 1)).toBe(1);
    expect(errors).toEqual(['get']);
  });

  it('refuses getOrLoad on an adapter without leases, and bad options', async () => {
    const plain: CacheAdapter = { name: 'plain', execute: async () => [], get: async () => undefined, close: async () => {} };
    await expect(createCacheReader({ adapter: plain }).getOrLoad('k', async () => 1)).rejects.toThrow(/does not implement leases/);
    expect(() => createCacheReader({ adapter: plain, waitMs: -1 })).toThrow(ConfigError);
  });
});
