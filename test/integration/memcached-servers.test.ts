import { connect, createServer, type Server, type Socket } from 'node:net';
import memjs from 'memjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CacheAdapter, CacheCommand, CommandResult } from '../../src/core/commands.js';
import { CacheCommandError, CacheUnavailableError } from '../../src/errors.js';
import { memcachedAdapter, memcachedKey } from '../../src/adapters/memcached/index.js';
import { type MemcachedPool, memcachedHas, startCountingProxy, startMemcached, startMemcachedPool } from '../helpers/memcached-servers.js';

const quiet = { log: () => undefined };
let n = 0;
const key = (name: string) => `srv:${process.pid}:${++n}:${name}`;
const errorOf = (r: CommandResult | undefined) => (r && !r.ok ? r.error : undefined);

/** The node memjs sends a (mapped) key to: its hash modulo the number of servers. */
const nodeIndexOf = (k: string, count: number) => memjs.Utils.hashCode(memcachedKey(k)) % count;

describe('memcachedAdapter across three servers', () => {
  let pool: MemcachedPool;
  let adapter: CacheAdapter;
  beforeAll(async () => {
    pool = await startMemcachedPool(3);
    adapter = memcachedAdapter({ servers: pool.servers, timeoutMs: 500, connectTimeoutMs: 500 });
  });
  afterAll(async () => {
    await adapter?.close();
    await pool?.stop();
  });
  afterEach(async () => {
    for (const node of pool.nodes) node.resume();
    await Promise.all(pool.nodes.map((node) => node.start()));
  });

  it('spreads keys over the servers, each key on the one server memjs hashes it to', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => key(`spread-${i}`));
    const results = await adapter.execute(keys.map((k): CacheCommand => ({ kind: 'set', key: k, value: k })));
    expect(results.every((r) => r.ok)).toBe(true);
    const perNode = [0, 0, 0];
    for (const k of keys) {
      const home = nodeIndexOf(k, 3);
      perNode[home] = (perNode[home] ?? 0) + 1;
      for (const [i, node] of pool.nodes.entries()) {
        expect(await memcachedHas(node.address, memcachedKey(k))).toBe(i === home);
      }
    }
    expect(perNode.every((count) => count > 0)).toBe(true);
  });

  it('keeps the order of commands on one key while other keys interleave across servers', async () => {
    const keys = Array.from({ length: 9 }, (_, i) => key(`order-${i}`));
    const commands: CacheCommand[] = [];
    for (let round = 0; round < 40; round++) {
      for (const k of keys) {
        commands.push(round % 3 === 2 ? { kind: 'delete', key: k } : { kind: 'set', key: k, value: `${k}@${round}` });
      }
    }
    for (const k of keys) commands.push({ kind: 'set', key: k, value: `${k}@last` });
    expect((await adapter.execute(commands)).every((r) => r.ok)).toBe(true);
    for (const k of keys) expect(await adapter.get(k)).toBe(`${k}@last`);
  });

  it('reports the commands for keys on a stopped server as failed and applies the others', async () => {
    const down = 1;
    await pool.nodes[down]?.stop();
    const keys = Array.from({ length: 60 }, (_, i) => key(`down-${i}`));
    const results = await adapter.execute(keys.map((k): CacheCommand => ({ kind: 'set', key: k, value: 'v' })));
    for (const [i, k] of keys.entries()) {
      const onDown = nodeIndexOf(k, 3) === down;
      expect(results[i]?.ok).toBe(!onDown);
      if (onDown) expect(errorOf(results[i])).toBeInstanceOf(CacheCommandError);
      else expect(await adapter.get(k)).toBe('v');
    }
    expect(results.some((r) => !r.ok)).toBe(true);

    // Back up (empty): the next batch reconnects and succeeds.
    await pool.nodes[down]?.start();
    const again = await adapter.execute(keys.map((k): CacheCommand => ({ kind: 'set', key: k, value: 'v2' })));
    expect(again.every((r) => r.ok)).toBe(true);
  });

  it('reports commands on a hung server (accepts, never answers) as failed after the timeout', async () => {
    const hung = 2;
    const keys = Array.from({ length: 30 }, (_, i) => key(`hung-${i}`));
    await pool.nodes[hung]?.pause();
    const results = await adapter.execute(keys.map((k): CacheCommand => ({ kind: 'delete', key: k })));
    pool.nodes[hung]?.resume();
    for (const [i, k] of keys.entries()) {
      expect(results[i]?.ok).toBe(nodeIndexOf(k, 3) !== hung);
    }
    const failed = results.map(errorOf).find((e) => e !== undefined);
    expect(failed?.message).toMatch(/outcome unknown.*timed out/);
  });

  it('(why) a reader listing the same servers in another order looks on other servers for some keys', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => key(`reader-${i}`));
    await adapter.execute(keys.map((k): CacheCommand => ({ kind: 'set', key: k, value: 'v' })));
    const same = memjs.Client.create(pool.servers, { logger: quiet, retries: 1 });
    const reversed = memjs.Client.create(
      [...pool.nodes]
        .reverse()
        .map((node) => node.address)
        .join(','),
      { logger: quiet, retries: 1 },
    );
    try {
      let sameHits = 0;
      let reversedHits = 0;
      for (const k of keys) {
        if ((await same.get(memcachedKey(k))).value !== null) sameHits++;
        if ((await reversed.get(memcachedKey(k))).value !== null) reversedHits++;
      }
      expect(sameHits).toBe(keys.length);
      expect(reversedHits).toBeLessThan(keys.length);
    } finally {
      same.close();
      reversed.close();
    }
  });

  it('(why "outcome unknown") a command that timed out on a hung server is applied when it resumes', async () => {
    const hung = 2;
    const k = Array.from({ length: 50 }, (_, i) => key(`late-${i}`)).find((candidate) => nodeIndexOf(candidate, 3) === hung);
    if (k === undefined) throw new Error('no key hashes to node 2');
    await pool.nodes[hung]?.pause();
    const [result] = await adapter.execute([{ kind: 'set', key: k, value: 'late' }]);
    expect(result?.ok).toBe(false);
    pool.nodes[hung]?.resume();
    await expect.poll(() => adapter.get(k), { timeout: 5_000, interval: 100 }).toBe('late');
  });

  it('(why failover is off) with memjs failover, a key written during a partition is read stale afterwards', async () => {
    const [home, second, third] = pool.nodes;
    if (!home || !second || !third) throw new Error('pool of 3 expected');
    // A proxy in front of the key's home server stands in for the network, so it can be cut.
    const link = await startCountingProxy(home);
    const failing = memcachedAdapter({
      servers: [link.address, second.address, third.address].join(','),
      failover: true,
      failoverTimeMs: 300,
      timeoutMs: 300,
      connectTimeoutMs: 300,
    });
    try {
      const k = Array.from({ length: 50 }, (_, i) => key(`failover-${i}`)).find((candidate) => nodeIndexOf(candidate, 3) === 0);
      if (k === undefined) throw new Error('no key hashes to node 0');
      expect(await failing.execute([{ kind: 'set', key: k, value: 'old' }])).toEqual([{ ok: true }]);
      link.partition(true);
      // memjs gives up on the home server and writes the key to the next one: reported success.
      expect(await failing.execute([{ kind: 'set', key: k, value: 'new' }])).toEqual([{ ok: true }]);
      expect(await memcachedHas(second.address, memcachedKey(k))).toBe(true);
      link.partition(false);
      // After failoverTime the home server is used again, and it still holds the old value.
      await expect.poll(() => failing.get(k), { timeout: 5_000, interval: 100 }).toBe('old');
    } finally {
      await failing.close();
      await link.close();
    }
  });
});

describe('memcachedAdapter when the only server is down', () => {
  it('fails every command quickly instead of hanging, and get throws CacheUnavailableError', async () => {
    const memcached = await startMemcached();
    const adapter = memcachedAdapter({ servers: memcached.servers });
    try {
      await memcached.stop();
      const results = await adapter.execute([
        { kind: 'set', key: key('a'), value: 'v' },
        { kind: 'delete', key: key('b') },
      ]);
      expect(results.map((r) => r.ok)).toEqual([false, false]);
      expect(errorOf(results[0])?.message).toMatch(/outcome unknown.*ECONNREFUSED/);
      await expect(adapter.get(key('a'))).rejects.toBeInstanceOf(CacheUnavailableError);
    } finally {
      await adapter.close();
      await memcached.stop();
    }
  }, 10_000);

  it('fails a batch whose connection the server closes cleanly (memjs alone would wait forever), then recovers', async () => {
    const memcached = await startMemcached();
    let connections = 0;
    const sockets = new Set<Socket>();
    // The first connection is closed with a FIN after the requests arrive; later ones reach memcached.
    const flaky: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      if (++connections === 1) {
        socket.once('data', () => socket.end());
        return;
      }
      const upstream = connect({ host: memcached.node.host, port: memcached.node.port });
      sockets.add(upstream);
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => flaky.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const address = flaky.address();
    if (address === null || typeof address !== 'object') throw new Error('no address');
    const adapter = memcachedAdapter({ servers: `127.0.0.1:${address.port}`, deadlineMs: 500 });
    try {
      const k = key('fin');
      const results = await adapter.execute([{ kind: 'set', key: k, value: 'v' }]);
      expect(errorOf(results[0])?.message).toMatch(/got no answer within 0.5 s, outcome unknown/);
      expect(await adapter.execute([{ kind: 'set', key: k, value: 'v2' }])).toEqual([{ ok: true }]);
      expect(await adapter.get(k)).toBe('v2');
    } finally {
      await adapter.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
      await memcached.stop();
    }
  }, 10_000);

  it('fails every command after the timeout when the server accepts but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const address = silent.address();
    if (address === null || typeof address !== 'object') throw new Error('no address');
    const adapter = memcachedAdapter({ servers: `127.0.0.1:${address.port}`, timeoutMs: 200 });
    try {
      const results = await adapter.execute([{ kind: 'set', key: key('silent'), value: 'v' }]);
      expect(errorOf(results[0])?.message).toMatch(/outcome unknown: socket timed out waiting on response/);
    } finally {
      await adapter.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 10_000);
});
