/**
 * The one suite of adapter behaviour every backend runs against a real server (memory runs it
 * in-process), shipped so third-party adapters run the same cases.
 *
 * The suite takes vitest's functions as an argument instead of importing vitest, so loading
 * this entry never loads a test runner, and the caller's own vitest (an optional peer of this
 * subpath only) runs the tests.
 */
import type * as Vitest from 'vitest';
import { supportsVersioned, type AnyCacheCommand, type CacheAdapter, type CacheCommand, type VersionedCacheAdapter } from '../core/commands.js';
import { decodeEnvelope } from '../core/versioned.js';
import { tagContract } from './tag-contract.js';

/**
 * The vitest functions the suite calls: pass `import * as vitest from 'vitest'`, or an object
 * with these four from your vitest.
 */
export type ContractTestApi = Pick<typeof Vitest, 'it' | 'expect' | 'beforeAll' | 'afterAll'>;

/** What {@link adapterContract} runs against: the adapter under test and how to observe and stop its backend. */
export interface ContractHarness {
  /** The adapter under test; the suite closes it after the last test, before `stop`. */
  readonly adapter: CacheAdapter;
  /**
   * Seconds left before `key` expires as the server reports it (`undefined`: no expiry or
   * absent). Backends that cannot report TTL omit this; the suite then waits for expiry.
   */
  readonly ttlOf?: (key: string) => Promise<number | undefined>;
  /**
   * A command the backend refuses while others in the same batch succeed (e.g. an ACL that
   * denies a key pattern, a value over the item size limit). Omit if the backend has none.
   */
  readonly refusedCommand?: CacheCommand;
  /** Stop what the harness started. */
  readonly stop: () => Promise<void>;
}

/**
 * Registers the adapter contract's tests in the current `describe`: set, delete and read back,
 * batch order on one key, TTLs in seconds, a 10,000-command batch, a refused command reported
 * as failed while the rest of its batch applies, and, for adapters that declare
 * `capabilities.versioned`, versioned commands and reader leases (others skip those with the
 * reason). Keys are prefixed `contract:`; `makeHarness` runs once, before the first test.
 *
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { adapterContract } from 'ddb-cache-sync/testing';
 * import { myAdapter } from '../src/index.js';
 *
 * vitest.describe('myAdapter contract', () => {
 *   adapterContract(vitest, async () => {
 *     const server = await startMyServer();
 *     return { adapter: myAdapter({ url: server.url }), stop: () => server.stop() };
 *   });
 * });
 * ```
 */
export function adapterContract(vitest: ContractTestApi, makeHarness: () => Promise<ContractHarness>): void {
  const { afterAll, beforeAll, expect, it } = vitest;
  let h: ContractHarness;
  let n = 0;
  // Fresh keys per test so tests never see each other's state on a shared server.
  const k = (name: string) => `contract:${process.pid}:${++n}:${name}`;

  beforeAll(async () => {
    h = await makeHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.adapter.close();
    await h?.stop();
  }, 60_000);

  it('sets and reads back a value', async () => {
    const key = k('a');
    const results = await h.adapter.execute([{ kind: 'set', key, value: '{"x":1}' }]);
    expect(results).toEqual([{ ok: true }]);
    expect(await h.adapter.get(key)).toBe('{"x":1}');
  });

  it('deletes a key, and deleting a missing key succeeds', async () => {
    const key = k('d');
    await h.adapter.execute([{ kind: 'set', key, value: 'v' }]);
    const results = await h.adapter.execute([
      { kind: 'delete', key },
      { kind: 'delete', key: k('never-set') },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(await h.adapter.get(key)).toBeUndefined();
  });

  it('returns undefined for a missing key', async () => {
    expect(await h.adapter.get(k('missing'))).toBeUndefined();
  });

  it('applies commands on one key in the order given', async () => {
    const key = k('order');
    const commands: CacheCommand[] = [];
    for (let i = 0; i < 50; i++) {
      commands.push({ kind: 'set', key, value: `v${i}` });
      if (i % 7 === 3) commands.push({ kind: 'delete', key });
    }
    commands.push({ kind: 'set', key, value: 'last' });
    const results = await h.adapter.execute(commands);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await h.adapter.get(key)).toBe('last');

    await h.adapter.execute([
      { kind: 'set', key, value: 'x' },
      { kind: 'delete', key },
    ]);
    expect(await h.adapter.get(key)).toBeUndefined();
  });

  it('sets a TTL in seconds and leaves no TTL when none is given', async () => {
    const withTtl = k('ttl');
    const without = k('no-ttl');
    await h.adapter.execute([
      { kind: 'set', key: withTtl, value: 'v', ttlSeconds: 300 },
      { kind: 'set', key: without, value: 'v' },
    ]);
    if (h.ttlOf) {
      const left = await h.ttlOf(withTtl);
      expect(left).toBeGreaterThan(290);
      expect(left).toBeLessThanOrEqual(300);
      expect(await h.ttlOf(without)).toBeUndefined();
    } else {
      expect(await h.adapter.get(withTtl)).toBe('v');
    }
    expect(await h.adapter.get(without)).toBe('v');
  });

  it('expires a value after its TTL', async () => {
    const key = k('expires');
    await h.adapter.execute([{ kind: 'set', key, value: 'v', ttlSeconds: 1 }]);
    expect(await h.adapter.get(key)).toBe('v');
    // Memcached rounds expiry to whole seconds on its clock: allow up to 3 s.
    await expect.poll(() => h.adapter.get(key), { timeout: 4_000, interval: 100 }).toBeUndefined();
  });

  it('a set without TTL replaces a value that had one', async () => {
    const key = k('ttl-replaced');
    const control = k('ttl-replaced-control');
    await h.adapter.execute([
      { kind: 'set', key, value: 'old', ttlSeconds: 1 },
      { kind: 'set', key, value: 'new' },
      { kind: 'set', key: control, value: 'old', ttlSeconds: 1 },
    ]);
    // Wait for the event, not the clock: once the control with the same 1 s TTL has expired on
    // the server, the replaced key would have expired too if the TTL had stuck to it.
    await expect.poll(() => h.adapter.get(control), { timeout: 4_000, interval: 100 }).toBeUndefined();
    expect(await h.adapter.get(key)).toBe('new');
  });

  it('round-trips unicode keys and values, and empty values', async () => {
    const key = k('ключ-🔑-鍵');
    const value = JSON.stringify({ name: 'Zoë 🍰', cjk: '漢字', rtl: 'שלום', nul: '\u0000' });
    const empty = k('empty');
    const results = await h.adapter.execute([
      { kind: 'set', key, value },
      { kind: 'set', key: empty, value: '' },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(await h.adapter.get(key)).toBe(value);
    expect(await h.adapter.get(empty)).toBe('');
  });

  it('runs a large batch (10,000 commands) with one result per command', async () => {
    const prefix = k('large');
    const commands: CacheCommand[] = [];
    for (let i = 0; i < 10_000; i++) {
      commands.push(
        i % 10 === 9 ? { kind: 'delete', key: `${prefix}:${i - 1}` } : { kind: 'set', key: `${prefix}:${i}`, value: `value-${i}`, ttlSeconds: 600 },
      );
    }
    const results = await h.adapter.execute(commands);
    expect(results).toHaveLength(10_000);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await h.adapter.get(`${prefix}:0`)).toBe('value-0');
    expect(await h.adapter.get(`${prefix}:8`)).toBeUndefined();
    expect(await h.adapter.get(`${prefix}:9997`)).toBe('value-9997');
  }, 60_000);

  it('reports a refused command as failed and still applies the others', async (ctx) => {
    if (!h.refusedCommand) {
      ctx.skip();
      return;
    }
    const before = k('before');
    const after = k('after');
    const results = await h.adapter.execute([{ kind: 'set', key: before, value: 'b' }, h.refusedCommand, { kind: 'set', key: after, value: 'a' }]);
    expect(results[0]).toEqual({ ok: true });
    expect(results[1]?.ok).toBe(false);
    expect(results[1] && !results[1].ok && results[1].error).toBeInstanceOf(Error);
    expect(results[2]).toEqual({ ok: true });
    expect(await h.adapter.get(before)).toBe('b');
    expect(await h.adapter.get(after)).toBe('a');
  });

  it('returns an empty result list for an empty batch', async () => {
    expect(await h.adapter.execute([])).toEqual([]);
  });

  it('getMany (optional): answers every key in key order, undefined for absent ones, as get does', async (ctx) => {
    const { getMany } = h.adapter;
    if (getMany === undefined) return ctx.skip('adapter does not implement the optional getMany');
    // Enough keys to span many Redis Cluster slots and Memcached servers; every third absent.
    const keys = Array.from({ length: 120 }, (_, i) => k(`many-${i}-ключ`));
    const present = keys.filter((_, i) => i % 3 !== 0);
    expect(await h.adapter.execute(present.map((key, i) => ({ kind: 'set', key, value: i === 0 ? '' : `{"i":${i}}` })))).toEqual(
      present.map(() => ({ ok: true })),
    );
    const asked = [...keys, keys[1] ?? '']; // a repeated key is answered at each position
    const values = await getMany.call(h.adapter, asked);
    expect(values).toEqual(await Promise.all(asked.map((key) => h.adapter.get(key))));
    expect(values.filter((v) => v === undefined)).toHaveLength(40);
    expect(await getMany.call(h.adapter, [])).toEqual([]);
  });

  // Versioned commands and reader leases (the `versioned` strategy and createCacheReader).
  // Backends that do not declare `capabilities.versioned` skip these with that reason.
  const SKIP_VERSIONED = 'adapter does not declare capabilities.versioned (versioned commands and leases not implemented yet)';
  const versioned = (ctx: { skip: (note?: string) => void }): VersionedCacheAdapter | undefined => {
    if (supportsVersioned(h.adapter)) return h.adapter;
    ctx.skip(SKIP_VERSIONED);
    return undefined;
  };
  const entry = async (a: CacheAdapter, key: string) => {
    const stored = await a.get(key);
    return stored === undefined ? undefined : decodeEnvelope(stored);
  };
  const sv = (key: string, version: string, value = `v${version}`, ttlSeconds?: number): AnyCacheCommand =>
    ttlSeconds === undefined ? { kind: 'set-versioned', key, value, version } : { kind: 'set-versioned', key, value, version, ttlSeconds };
  const dv = (key: string, version: string, tombstoneTtlSeconds = 600): AnyCacheCommand => ({ kind: 'delete-versioned', key, version, tombstoneTtlSeconds });

  it('versioned: applies only strictly newer writes, in one batch and across batches', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('versioned');
    const results = await a.execute([sv(key, '5'), sv(key, '3'), sv(key, '5', 'duplicate'), sv(key, '4')]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    expect(await entry(a, key)).toEqual({ kind: 'value', version: '5', payload: 'v5' });
    await a.execute([sv(key, '6', 'six', 300)]);
    expect(await entry(a, key)).toEqual({ kind: 'value', version: '6', payload: 'six' });
    if (h.ttlOf) expect(await h.ttlOf(key)).toBeGreaterThan(290);
  });

  it('versioned: mixes with plain commands on one key in batch order', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('mixed');
    const results = await a.execute([sv(key, '5'), dv(key, '6'), sv(key, '4'), { kind: 'set', key, value: 'plain' }, sv(key, '3', 'after-plain')]);
    expect(results.every((r) => r.ok)).toBe(true);
    // A plain value carries no version, so the versioned write after it applies.
    expect(await entry(a, key)).toEqual({ kind: 'value', version: '3', payload: 'after-plain' });
    await a.execute([sv(key, '9'), { kind: 'delete', key }, sv(key, '2')]);
    expect(await entry(a, key)).toEqual({ kind: 'value', version: '2', payload: 'v2' });
  });

  it('versioned: compares versions as integers beyond 2^53 and of different lengths', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('big');
    await a.execute([sv(key, '9007199254740993'), sv(key, '9007199254740992'), sv(key, '999999999999999')]);
    expect(await entry(a, key)).toMatchObject({ version: '9007199254740993' });
    await a.execute([sv(key, '100000000000000000000000000000000000000')]);
    expect(await entry(a, key)).toMatchObject({ version: '100000000000000000000000000000000000000' });
  });

  it('versioned: a delete leaves a tombstone with its TTL that refuses older and equal-version values', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('tomb');
    await a.execute([sv(key, '5'), dv(key, '5', 120), sv(key, '5'), sv(key, '4')]);
    expect(await entry(a, key)).toEqual({ kind: 'tombstone', version: '5' });
    if (h.ttlOf) {
      const left = await h.ttlOf(key);
      expect(left).toBeGreaterThan(110);
      expect(left).toBeLessThanOrEqual(120);
    }
    await a.execute([sv(key, '6')]);
    expect(await entry(a, key)).toMatchObject({ kind: 'value', version: '6' });
  });

  it('versioned: replaces a plain value, and round-trips unicode payloads', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('plain-then-versioned-ключ');
    const value = JSON.stringify({ name: 'Zoë 🍰', nul: '\u0000' });
    await a.execute([{ kind: 'set', key, value: 'plain' }, sv(key, '1', value)]);
    expect(await entry(a, key)).toEqual({ kind: 'value', version: '1', payload: value });
  });

  it('leases: one reader at a time; a newer write voids the lease and the late fill is dropped', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('lease');
    expect(await a.lease(key, 'r1', 5_000)).toEqual({ granted: true });
    const second = await a.lease(key, 'r2', 5_000);
    expect(second.granted).toBe(false);
    expect(!second.granted && second.stored !== undefined && decodeEnvelope(second.stored)).toMatchObject({ kind: 'lease', token: 'r1' });
    await a.execute([sv(key, '2', 'stream')]);
    expect(await a.fill(key, 'r1', 'stale-from-reader')).toBe(false);
    expect(await entry(a, key)).toEqual({ kind: 'value', version: '2', payload: 'stream' });
    const held = await a.lease(key, 'r3', 5_000);
    expect(held.granted).toBe(false); // a value is a hit, not a lease
    expect(!held.granted && held.stored).toBeTruthy();
  });

  it('leases: a plain delete also voids a lease', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('lease-del');
    await a.lease(key, 'r1', 5_000);
    await a.execute([{ kind: 'delete', key }]);
    expect(await a.fill(key, 'r1', 'stale')).toBe(false);
    expect(await a.get(key)).toBeUndefined();
  });

  it('leases: a lease on a tombstone keeps its version as floor, and the fill carries it', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('floor');
    await a.execute([dv(key, '7', 600)]);
    expect(await a.lease(key, 'r1', 5_000)).toEqual({ granted: true });
    if (h.ttlOf) expect(await h.ttlOf(key)).toBeGreaterThan(500); // the tombstone's TTL outlives the lease
    await a.execute([sv(key, '6'), sv(key, '7')]); // at or below the floor: refused
    expect(await entry(a, key)).toMatchObject({ kind: 'lease', floor: '7', token: 'r1' });
    expect(await a.fill(key, 'r1', 'filled', { ttlSeconds: 300 })).toBe(true);
    expect(await entry(a, key)).toEqual({ kind: 'value', version: '7', payload: 'filled' });
    await a.execute([sv(key, '8')]);
    expect(await entry(a, key)).toMatchObject({ kind: 'value', version: '8' });
  });

  it('leases: a fill labelled with a newer loaded version refuses older stream writes', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('fill-version');
    await a.lease(key, 'r1', 5_000);
    expect(await a.fill(key, 'r1', 'loaded', { version: '10' })).toBe(true);
    await a.execute([sv(key, '9')]);
    expect(await entry(a, key)).toEqual({ kind: 'value', version: '10', payload: 'loaded' });
  });

  it('leases: an abandoned lease can be taken over after it expires, and the old holder cannot fill', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const key = k('takeover');
    await a.execute([dv(key, '3', 600)]);
    expect(await a.lease(key, 'r1', 200)).toEqual({ granted: true });
    // A refused lease attempt changes nothing, so polling waits for the expiry itself.
    await expect.poll(() => a.lease(key, 'r2', 5_000), { timeout: 4_000, interval: 100 }).toEqual({ granted: true });
    expect(await a.fill(key, 'r1', 'late')).toBe(false);
    expect(await entry(a, key)).toMatchObject({ kind: 'lease', floor: '3', token: 'r2' });
  });

  it('leases: giving a lease back restores the tombstone, or removes the key', async (ctx) => {
    const a = versioned(ctx);
    if (!a) return;
    const withFloor = k('release-floor');
    const without = k('release');
    await a.execute([dv(withFloor, '4', 600)]);
    await a.lease(withFloor, 't', 5_000);
    await a.lease(without, 't', 5_000);
    expect(await a.fill(withFloor, 't', undefined)).toBe(true);
    expect(await a.fill(without, 't', undefined)).toBe(true);
    expect(await entry(a, withFloor)).toEqual({ kind: 'tombstone', version: '4' });
    expect(await a.get(without)).toBeUndefined();
  });

  tagContract(vitest, () => (h !== undefined && supportsVersioned(h.adapter) ? h.adapter : undefined), k);
}
