import { describe, expect, it } from 'vitest';
import { memoryAdapter, type MemoryAdapter } from '../../src/adapters/memory/index.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
import { createCacheReader } from '../../src/reader/index.js';

/** Counts every cache call (each is one round trip on Redis) and can hold fills. */
function counting(cache: MemoryAdapter) {
  const calls: string[] = [];
  let held: Promise<void> | undefined;
  const adapter: MemoryAdapter = {
    ...cache,
    get: (key) => (calls.push('get'), cache.get(key)),
    lease: (key, token, ttlMs) => (calls.push('lease'), cache.lease(key, token, ttlMs)),
    fill: async (key, token, value, options) => {
      calls.push('fill');
      if (held !== undefined) await held;
      return cache.fill(key, token, value, options);
    },
  };
  return {
    adapter,
    calls,
    hold() {
      let release = () => {};
      held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
  };
}

describe('createCacheReader with leaseFirst', () => {
  it('answers a hit with one cache call (the lease answers what the key holds)', async () => {
    const cache = memoryAdapter();
    await cache.execute([{ kind: 'set-versioned', key: 'k', value: '{"n":1}', version: '1' }]);
    const { adapter, calls } = counting(cache);
    const reader = createCacheReader({ adapter, leaseFirst: true });
    let loads = 0;

    expect(await reader.getOrLoad('k', async () => (loads++, { n: 2 }))).toEqual({ n: 1 });

    expect(calls).toEqual(['lease']);
    expect(loads).toBe(0);
  });

  it('takes the lease on a miss in the same single call, then fills', async () => {
    const { adapter, calls } = counting(memoryAdapter());
    const reader = createCacheReader({ adapter, leaseFirst: true });

    expect(await reader.getOrLoad('k', async () => ({ n: 1 }))).toEqual({ n: 1 });

    expect(calls).toEqual(['lease', 'fill']);
    expect(await reader.get('k')).toEqual({ n: 1 });
  });

  it('reads first without leaseFirst (two calls before the loader on a miss)', async () => {
    const { adapter, calls } = counting(memoryAdapter());
    const reader = createCacheReader({ adapter });
    await reader.getOrLoad('k', async () => ({ n: 1 }));
    expect(calls).toEqual(['get', 'lease', 'fill']);
  });

  it('still treats a plain value as a hit and never leases over it', async () => {
    const cache = memoryAdapter();
    await cache.execute([{ kind: 'set', key: 'k', value: '{"plain":true}' }]);
    const reader = createCacheReader({ adapter: cache, leaseFirst: true });
    expect(await reader.getOrLoad('k', async () => ({ plain: false }))).toEqual({ plain: true });
    expect(await cache.get('k')).toBe('{"plain":true}');
  });
});

describe('createCacheReader with awaitFill: false', () => {
  it('returns before the fill lands, and settle() awaits it', async () => {
    const { adapter, calls, hold } = counting(memoryAdapter());
    const reader = createCacheReader({ adapter, leaseFirst: true, awaitFill: false });
    const release = hold();

    expect(await reader.getOrLoad('k', async () => ({ n: 1 }))).toEqual({ n: 1 });
    // The fill was sent but has not landed: the key still holds this reader's lease.
    expect(calls).toEqual(['lease', 'fill']);
    expect(decodeEnvelope((await adapter.get('k')) ?? '')).toMatchObject({ kind: 'lease' });

    release();
    await reader.settle();
    expect(await reader.get('k')).toEqual({ n: 1 });
  });

  it('reports a failed background fill to onCacheError and never to the caller', async () => {
    const cache = memoryAdapter();
    const errors: string[] = [];
    const adapter: MemoryAdapter = { ...cache, fill: async () => Promise.reject(new Error('down')) };
    const reader = createCacheReader({ adapter, leaseFirst: true, awaitFill: false, onCacheError: (_, op) => errors.push(op) });

    expect(await reader.getOrLoad('k', async () => ({ n: 1 }))).toEqual({ n: 1 });
    await reader.settle();

    expect(errors).toEqual(['fill']);
  });
});
