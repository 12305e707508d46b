/**
 * The one suite of adapter behaviour every backend runs against a real server
 * (memory runs it in-process). Call `adapterContract` inside a `describe`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CacheAdapter, CacheCommand } from '../../src/core/commands.js';

export interface ContractHarness {
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

export function adapterContract(makeHarness: () => Promise<ContractHarness>): void {
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

    await h.adapter.execute([{ kind: 'set', key, value: 'x' }, { kind: 'delete', key }]);
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
    await h.adapter.execute([
      { kind: 'set', key, value: 'old', ttlSeconds: 1 },
      { kind: 'set', key, value: 'new' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
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
        i % 10 === 9
          ? { kind: 'delete', key: `${prefix}:${i - 1}` }
          : { kind: 'set', key: `${prefix}:${i}`, value: `value-${i}`, ttlSeconds: 600 },
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
    const results = await h.adapter.execute([
      { kind: 'set', key: before, value: 'b' },
      h.refusedCommand,
      { kind: 'set', key: after, value: 'a' },
    ]);
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
}
