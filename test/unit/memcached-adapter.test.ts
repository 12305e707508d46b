import { describe, expect, it, vi } from 'vitest';
import type { CacheCommand, CommandResult } from '../../src/core/commands.js';
import { CacheCommandError, CacheUnavailableError, ConfigError, ValueTooLargeError } from '../../src/errors.js';
import {
  type MemcachedAdapterOptions,
  type MemcachedClient,
  MemcachedValueTooLargeError,
  memcachedAdapter,
  memcachedKey,
} from '../../src/adapters/memcached/index.js';
import { describeKey } from '../../src/core/key-hash.js';

interface Call {
  readonly op: 'set' | 'delete';
  readonly key: string;
  readonly value?: string;
  readonly expires?: number;
}

/** A client that records calls and answers with what `answer` says (default: success). */
function fakeClient(answer: (call: Call) => Promise<boolean> = async () => true, expires?: number) {
  const calls: Call[] = [];
  const store = new Map<string, string>();
  const client: MemcachedClient & { close: () => void } = {
    options: expires === undefined ? {} : { expires },
    set(key, value, options) {
      const call: Call = { op: 'set', key, value, ...(options.expires === undefined ? {} : { expires: options.expires }) };
      calls.push(call);
      return answer(call).then((ok) => {
        if (ok) store.set(key, value);
        return ok;
      });
    },
    delete(key) {
      const call: Call = { op: 'delete', key };
      calls.push(call);
      return answer(call).then((ok) => store.delete(key) && ok);
    },
    async get(key) {
      const value = store.get(key);
      return { value: value === undefined ? null : Buffer.from(value) };
    },
    close: vi.fn(),
  };
  return { client, calls, store };
}

const set = (key: string, value: string, ttlSeconds?: number): CacheCommand =>
  ttlSeconds === undefined ? { kind: 'set', key, value } : { kind: 'set', key, value, ttlSeconds };

const errorOf = (result: CommandResult | undefined): Error | undefined => (result && !result.ok ? result.error : undefined);

describe('memcachedAdapter with a client', () => {
  it('issues every command of a batch before any answer arrives', async () => {
    const releases: Array<() => void> = [];
    const { client, calls } = fakeClient(
      () =>
        new Promise<boolean>((resolve) => {
          releases.push(() => resolve(true));
        }),
    );
    const adapter = memcachedAdapter({ client });
    const commands: CacheCommand[] = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? { kind: 'delete', key: `k${i}` } : set(`k${i}`, `v${i}`)));
    const pending = adapter.execute(commands);
    await vi.waitFor(() => expect(calls).toHaveLength(100));
    expect(calls.map((c) => c.key)).toEqual(commands.map((c) => c.key));
    for (const release of releases) release();
    expect(await pending).toEqual(commands.map(() => ({ ok: true })));
  });

  it('issues a batch larger than one slice in order, still before any answer arrives', async () => {
    const releases: Array<() => void> = [];
    const { client, calls } = fakeClient(() => new Promise<boolean>((resolve) => releases.push(() => resolve(true))));
    const commands: CacheCommand[] = Array.from({ length: 1_000 }, (_, i) => set(`k${i % 7}`, `v${i}`));
    const pending = memcachedAdapter({ client }).execute(commands);
    await vi.waitFor(() => expect(calls).toHaveLength(1_000));
    expect(calls.map((c) => c.value)).toEqual(commands.map((c) => (c.kind === 'set' ? c.value : undefined)));
    for (const release of releases) release();
    expect((await pending).every((r) => r.ok)).toBe(true);
  });

  it('maps TTLs: none to 0, up to 30 days relative, over 30 days absolute from the clock', async () => {
    const nowMs = 1_700_000_000_500;
    const { client, calls } = fakeClient();
    const adapter = memcachedAdapter({ client, now: () => nowMs });
    const results = await adapter.execute([
      set('a', 'v'),
      set('b', 'v', 300),
      set('c', 'v', 2_592_000),
      set('d', 'v', 2_592_001),
      set('e', 'v', 1.2),
      set('f', 'v', 200 * 365 * 86_400),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(calls.map((c) => c.expires)).toEqual([0, 300, 2_592_000, 1_700_000_000 + 2_592_001, 2, 0xffff_ffff]);
  });

  it('refuses a TTL of zero or less instead of sending 0, which memcached reads as never expire', async () => {
    const { client, calls } = fakeClient();
    const adapter = memcachedAdapter({ client });
    const results = await adapter.execute([set('a', 'v', 0), set('b', 'v', -5), set('c', 'v', Number.NaN), set('d', 'v', 10)]);
    expect(results.slice(0, 3).map((r) => r.ok)).toEqual([false, false, false]);
    expect(errorOf(results[0])).toBeInstanceOf(CacheCommandError);
    expect(errorOf(results[0])?.message).toMatch(/ttlSeconds must be a positive/);
    expect(results[3]).toEqual({ ok: true });
    expect(calls.map((c) => c.key)).toEqual(['d']);
  });

  it('applies memcachedKey to commands and to get', async () => {
    const { client, calls, store } = fakeClient();
    const adapter = memcachedAdapter({ client });
    await adapter.execute([set('user:Zoë Smith', 'v'), { kind: 'delete', key: 'a b' }]);
    expect(calls.map((c) => c.key)).toEqual([memcachedKey('user:Zoë Smith'), memcachedKey('a b')]);
    expect(store.has(memcachedKey('user:Zoë Smith'))).toBe(true);
    expect(await adapter.get('user:Zoë Smith')).toBe('v');
  });

  it('treats deleting a missing key as success', async () => {
    const { client } = fakeClient(async () => false);
    const adapter = memcachedAdapter({ client });
    expect(await adapter.execute([{ kind: 'delete', key: 'missing' }])).toEqual([{ ok: true }]);
  });

  it('reports a set the client did not store as failed', async () => {
    const { client } = fakeClient(async () => false);
    const adapter = memcachedAdapter({ client });
    const [result] = await adapter.execute([set('k', 'v')]);
    expect(errorOf(result)).toBeInstanceOf(CacheCommandError);
  });

  it('turns the server answer "Value too large" into a ValueTooLargeError for that command only', async () => {
    const { client } = fakeClient(async (call) => {
      if (call.key === 'big') throw new Error('MemJS SET: Value too large');
      return true;
    });
    const adapter = memcachedAdapter({ client });
    const results = await adapter.execute([set('a', 'v'), set('big', 'x'.repeat(5000)), set('b', 'v')]);
    expect(results[0]).toEqual({ ok: true });
    expect(results[2]).toEqual({ ok: true });
    const error = errorOf(results[1]);
    expect(error).toBeInstanceOf(ValueTooLargeError);
    expect(error).toBeInstanceOf(MemcachedValueTooLargeError);
    expect(error).toMatchObject({ key: 'big', bytes: 5000, refusedBy: 'server', removed: true });
  });

  it('refuses values over maxValueBytes (in UTF-8 bytes) without sending them, deleting the key instead', async () => {
    const { client, calls } = fakeClient();
    const adapter = memcachedAdapter({ client, maxValueBytes: 10 });
    const results = await adapter.execute([set('fits', 'x'.repeat(10)), set('big', 'é'.repeat(6), 60), set('after', 'v')]);
    expect(results[0]).toEqual({ ok: true });
    expect(results[2]).toEqual({ ok: true });
    expect(errorOf(results[1])).toMatchObject({ key: 'big', bytes: 12, limit: 10, refusedBy: 'adapter', removed: true });
    expect(calls.map((c) => `${c.op} ${c.key}`)).toEqual(['set fits', 'delete big', 'set after']);
  });

  it('says when the delete in place of a too-large value failed too', async () => {
    const { client } = fakeClient(async (call) => {
      if (call.op === 'delete') throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      return true;
    });
    const adapter = memcachedAdapter({ client, maxValueBytes: 1 });
    const [result] = await adapter.execute([set('big', 'xx')]);
    expect(errorOf(result)).toMatchObject({ refusedBy: 'adapter', removed: false });
    expect(errorOf(result)?.message).toMatch(/stale value may remain/);
  });

  it('reports connection failures, string rejections and synchronous throws per command, keeping the cause', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const { client } = fakeClient(async (call) => {
      if (call.key === 'refused') throw refused;
      if (call.key === 'string') return Promise.reject('Memcached server authentication failed!');
      return true;
    });
    const throwing: MemcachedClient = {
      ...client,
      set: (key, value, options) => {
        if (key === 'throws') throw new TypeError('boom');
        return client.set(key, value, options);
      },
    };
    const adapter = memcachedAdapter({ client: throwing });
    const results = await adapter.execute([set('refused', 'v'), set('string', 'v'), set('throws', 'v'), set('ok', 'v')]);
    const [a, b, c, d] = results;
    expect(errorOf(a)).toBeInstanceOf(CacheCommandError);
    expect(errorOf(a)?.cause).toBe(refused);
    expect(errorOf(a)?.message).toMatch(/outcome unknown.*ECONNREFUSED/);
    expect(errorOf(b)?.message).toMatch(/authentication failed/);
    expect(errorOf(c)?.message).toMatch(/boom/);
    expect(d).toEqual({ ok: true });
  });

  it('labels errors the server answered as refused, not unknown', async () => {
    const { client } = fakeClient(async () => {
      throw new Error('MemJS SET: Out of memory');
    });
    const [result] = await memcachedAdapter({ client }).execute([set('k', 'v')]);
    expect(errorOf(result)?.message).toContain(`memcached refused set ${describeKey('k')}: MemJS SET: Out of memory`);
  });

  it('refuses at construction a client whose default expires would replace "no TTL"', () => {
    const { client } = fakeClient(undefined, 3600);
    expect(() => memcachedAdapter({ client })).toThrow(ConfigError);
    expect(() => memcachedAdapter({ client })).toThrow(/client\.options\.expires: is 3600/);
  });

  it('fails sets without TTL if the client default expires changes later, and still sends sets with one', async () => {
    const { client, calls } = fakeClient();
    const options: { expires?: number } = {};
    const mutable: MemcachedClient = { ...client, options };
    const adapter = memcachedAdapter({ client: mutable });
    options.expires = 60;
    const results = await adapter.execute([set('a', 'v'), set('b', 'v', 30)]);
    expect(errorOf(results[0])).toBeInstanceOf(ConfigError);
    expect(results[1]).toEqual({ ok: true });
    expect(calls.map((c) => c.key)).toEqual(['b']);
  });

  it('reads Buffer, string and absent values; a failed read throws CacheUnavailableError', async () => {
    const values = new Map<string, Uint8Array | string | null>([
      ['buf', Buffer.from('zoë')],
      ['str', 'plain'],
      ['empty', Buffer.alloc(0)],
    ]);
    const client: MemcachedClient = {
      set: async () => true,
      delete: async () => true,
      get: async (key) => {
        if (key === 'down') throw new Error('socket timed out waiting on response.');
        return { value: values.get(key) ?? null };
      },
    };
    const adapter = memcachedAdapter({ client });
    expect(await adapter.get('buf')).toBe('zoë');
    expect(await adapter.get('str')).toBe('plain');
    expect(await adapter.get('empty')).toBe('');
    expect(await adapter.get('missing')).toBeUndefined();
    await expect(adapter.get('down')).rejects.toBeInstanceOf(CacheUnavailableError);
  });

  it('returns [] for an empty batch and leaves a client it did not create open', async () => {
    const { client, calls } = fakeClient();
    const adapter = memcachedAdapter({ client });
    expect(await adapter.execute([])).toEqual([]);
    await adapter.close();
    expect(calls).toHaveLength(0);
    expect(client.close).not.toHaveBeenCalled();
  });
});

describe('memcachedAdapter deadline', () => {
  it('reports commands the client never settles as failed once deadlineMs pass', async () => {
    const { client } = fakeClient((call) => (call.key === 'stuck' ? new Promise<boolean>(() => undefined) : Promise.resolve(true)));
    const adapter = memcachedAdapter({ client, deadlineMs: 50 });
    const results = await adapter.execute([set('a', 'v'), set('stuck', 'v'), { kind: 'delete', key: 'b' }]);
    expect(results[0]).toEqual({ ok: true });
    expect(results[2]).toEqual({ ok: true });
    expect(errorOf(results[1])).toBeInstanceOf(CacheCommandError);
    expect(errorOf(results[1])?.message).toContain(`${describeKey('stuck')} got no answer within 0.05 s, outcome unknown`);
  });

  it('fails a get the client never settles with CacheUnavailableError', async () => {
    const client: MemcachedClient = { set: async () => true, delete: async () => true, get: () => new Promise(() => undefined) };
    await expect(memcachedAdapter({ client, deadlineMs: 50 }).get('k')).rejects.toBeInstanceOf(CacheUnavailableError);
  });
});

describe('memcachedAdapter option validation', () => {
  it.each([
    [{ servers: '' }, /servers: must be a non-empty/],
    [{ servers: 'a:11211,b:99999' }, /"b:99999" is not "host:port"/],
    [{ servers: 'has space:11211' }, /is not "host:port"/],
    [{ servers: '[::1]:11211' }, /is not "host:port"/],
    [{ servers: 'a:11211', timeoutMs: 0 }, /timeoutMs: must be a positive number/],
    [{ servers: 'a:11211', connectTimeoutMs: Number.POSITIVE_INFINITY }, /connectTimeoutMs/],
    [{ servers: 'a:11211', maxValueBytes: 1.5 }, /maxValueBytes: must be a positive whole number/],
    [{ servers: 'a:11211', deadlineMs: -1 }, /deadlineMs: must be a positive number/],
  ])('rejects %j', (options, message) => {
    expect(() => memcachedAdapter(options)).toThrow(ConfigError);
    expect(() => memcachedAdapter(options)).toThrow(message);
  });

  it.each([
    ['deadlineSeconds', 'deadlineMs'],
    ['timeoutSeconds', 'timeoutMs'],
    ['connectTimeoutSeconds', 'connectTimeoutMs'],
    ['failoverTimeSeconds', 'failoverTimeMs'],
  ])('refuses the 0.1 option %s, naming its millisecond successor %s', (old, renamed) => {
    const options = { servers: 'a:11211', [old]: 1 } as unknown as MemcachedAdapterOptions;
    expect(() => memcachedAdapter(options)).toThrow(new RegExp(`memcachedAdapter\\.${old}: renamed to ${renamed}, in milliseconds`));
  });

  it('rejects a client without the methods it calls', () => {
    const client = { set: async () => true, delete: async () => true } as unknown as MemcachedClient;
    expect(() => memcachedAdapter({ client })).toThrow(/client\.get: must be a function/);
  });

  it.each([false, undefined])('refuses tls.rejectUnauthorized %s: verification cannot be switched off', (value) => {
    expect(() => memcachedAdapter({ servers: 'cache-1:11211', tls: { rejectUnauthorized: value } })).toThrow(
      /tls\.rejectUnauthorized: certificate verification cannot be turned off/,
    );
    expect(() => memcachedAdapter({ servers: 'cache-1:11211', tls: { rejectUnauthorized: true, ca: 'x' } })).not.toThrow();
  });

  it('accepts a servers list with credentials, default ports and spaces after commas', () => {
    expect(() => memcachedAdapter({ servers: 'user:pass@cache-1:11211, cache-2 ,10.0.0.7:11212' })).not.toThrow();
  });
});
