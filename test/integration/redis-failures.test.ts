import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheCommand, CommandResult } from '../../src/core/commands.js';
import { CacheCommandError, CacheUnavailableError } from '../../src/errors.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import { freePort } from '../helpers/free-port.js';
import { type RedisClusterServers, type RedisServer, startRedis, startRedisCluster } from '../helpers/redis-servers.js';
import { startTcpProxy } from '../helpers/redis-proxy.js';
import { createTestCertificates, type TestCertificates } from '../helpers/tls-certs.js';

const batch: CacheCommand[] = [
  { kind: 'set', key: 'user:1', value: '{"pk":"1"}', ttlSeconds: 60 },
  { kind: 'delete', key: 'user-by-email:a@example.com' },
  { kind: 'set', key: 'user:2', value: '{"pk":"2"}' },
];

function errorsOf(results: readonly CommandResult[]): Error[] {
  return results.map((result) => {
    if (result.ok) throw new Error('expected every command to be reported failed');
    return result.error;
  });
}

/** Every command failed as unavailable, and `pattern` appears in the message. */
function expectAllUnavailable(results: readonly CommandResult[], pattern: RegExp): void {
  expect(results).toHaveLength(batch.length);
  for (const error of errorsOf(results)) {
    expect(error).toBeInstanceOf(CacheCommandError);
    expect(error.cause).toBeInstanceOf(CacheUnavailableError);
    expect(error.message).toMatch(pattern);
  }
}

describe('redisAdapter when authentication fails', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ password: 'right-password' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('reports every command failed with the server’s WRONGPASS and a hint, and writes nothing', async () => {
    const adapter = redisAdapter({ url: `redis://:wrong-password@${server.host}:${server.port}` });
    try {
      const results = await adapter.execute(batch);
      expectAllUnavailable(results, /WRONGPASS/);
      expect(errorsOf(results)[0]?.message).toMatch(/check the username and password/);
      await expect(adapter.get('user:1')).rejects.toBeInstanceOf(CacheUnavailableError);
      expect((await server.cli('EXISTS', 'user:1')).trim()).toBe('0');
    } finally {
      await adapter.close();
    }
  });

  it('reports every command failed when no password is given to a server that requires one', async () => {
    const adapter = redisAdapter({ url: `redis://${server.host}:${server.port}` });
    try {
      const results = await adapter.execute(batch);
      expect(results.every((result) => !result.ok)).toBe(true);
      expect(errorsOf(results)[0]?.message).toMatch(/NOAUTH|Authentication required/i);
    } finally {
      await adapter.close();
    }
  });

  it('connects once the credentials are right (percent-encoded in the url)', async () => {
    const adapter = redisAdapter({ url: `redis://:${encodeURIComponent('right-password')}@${server.host}:${server.port}` });
    try {
      expect(await adapter.execute(batch)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    } finally {
      await adapter.close();
    }
  });
});

describe('redisAdapter on a cluster when authentication fails', () => {
  let cluster: RedisClusterServers;
  beforeAll(async () => {
    cluster = await startRedisCluster({ nodes: 3 });
    for (const port of cluster.ports) await cluster.cli(port, 'CONFIG', 'SET', 'requirepass', 'cluster-pw');
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('names the node error (WRONGPASS) instead of only "Failed to refresh slots cache"', async () => {
    const adapter = redisAdapter({ url: `redis://:nope@${cluster.host}:${cluster.ports[0]}`, cluster: true });
    try {
      expectAllUnavailable(await adapter.execute(batch), /WRONGPASS/);
    } finally {
      await adapter.close();
    }
  });
});

describe('redisAdapter when TLS verification fails', () => {
  let server: RedisServer;
  let otherCa: TestCertificates;
  beforeAll(async () => {
    server = await startRedis({ tls: true });
    otherCa = await createTestCertificates('an unrelated CA');
  });
  afterAll(async () => {
    await server?.stop();
    await otherCa?.cleanup();
  });

  it('reports a certificate from an untrusted CA as a TLS problem', async () => {
    const adapter = redisAdapter({ url: `rediss://${server.host}:${server.port}`, tls: { ca: otherCa.ca } });
    try {
      const results = await adapter.execute(batch);
      expectAllUnavailable(results, /certificate/i);
      expect(errorsOf(results)[0]?.message).toMatch(/check tls \(ca, servername/);
    } finally {
      await adapter.close();
    }
  });

  it('reports a server name the certificate does not cover, and accepts one it does', async () => {
    const wrongName = redisAdapter({
      url: `rediss://${server.host}:${server.port}`,
      tls: { ca: server.tls?.ca, servername: 'cache.example.com' },
    });
    const rightName = redisAdapter({
      url: `rediss://${server.host}:${server.port}`,
      tls: { ca: server.tls?.ca, servername: 'localhost' },
    });
    try {
      expectAllUnavailable(await wrongName.execute(batch), /altnames/);
      expect(await rightName.execute(batch)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    } finally {
      await wrongName.close();
      await rightName.close();
    }
  });

  it('fails (does not hang) when a plain redis:// url meets a TLS-only port', async () => {
    const adapter = redisAdapter({ url: `redis://${server.host}:${server.port}`, connectTimeoutMs: 500, commandTimeoutMs: 500 });
    try {
      const results = await adapter.execute(batch);
      expect(results.every((result) => !result.ok)).toBe(true);
    } finally {
      await adapter.close();
    }
  });
});

describe('redisAdapter when the server is unreachable', () => {
  it('reports every command failed when nothing listens on the port', async () => {
    const port = await freePort();
    const adapter = redisAdapter({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500, commandTimeoutMs: 300 });
    try {
      expectAllUnavailable(await adapter.execute(batch), /ECONNREFUSED/);
      // The next batch tries again rather than reusing a dead state.
      expectAllUnavailable(await adapter.execute(batch), /ECONNREFUSED|not ready/);
    } finally {
      await adapter.close();
    }
  }, 10_000);

  it('reports every command failed when the server accepts TCP but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const adapter = redisAdapter({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500, commandTimeoutMs: 300 });
    try {
      expectAllUnavailable(await adapter.execute(batch), /not ready within connectTimeoutMs|timed out/i);
    } finally {
      await adapter.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 10_000);

  it('reports commands failed while the server is stopped, and recovers when it is back', async () => {
    const first = await startRedis();
    const adapter = redisAdapter({ url: first.url, connectTimeoutMs: 500, commandTimeoutMs: 300 });
    let second: RedisServer | undefined;
    try {
      expect(await adapter.execute(batch)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      await first.stop();
      expect((await adapter.execute(batch)).every((result) => !result.ok)).toBe(true);
      second = await startRedis({ port: first.port });
      await expect.poll(async () => (await adapter.execute(batch)).every((result) => result.ok), { timeout: 5_000, interval: 100 }).toBe(true);
      expect((await second.cli('GET', 'user:2')).trim()).toBe('{"pk":"2"}');
    } finally {
      await adapter.close();
      await first.stop();
      await second?.stop();
    }
  }, 20_000);

  it('drops a connection that stopped answering (half-open), so the next batch reconnects and succeeds', async () => {
    const server = await startRedis();
    const proxy = await startTcpProxy(server);
    const adapter = redisAdapter({ url: `redis://${proxy.host}:${proxy.port}`, connectTimeoutMs: 1_000, commandTimeoutMs: 300 });
    try {
      expect(await adapter.execute(batch)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      expect(proxy.accepted()).toBe(1);
      proxy.blackholeOpenConnections();
      expectAllUnavailable(await adapter.execute(batch), /timed out/i);
      // Without dropping the silent socket, this batch would time out too, and every one after.
      expect(await adapter.execute(batch)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      expect(proxy.accepted()).toBe(2);
    } finally {
      await adapter.close();
      await proxy.stop();
      await server.stop();
    }
  }, 10_000);

  it('reports commands failed (outcome unknown) when replies do not come within commandTimeoutMs', async () => {
    const server = await startRedis();
    const adapter = redisAdapter({ url: server.url, connectTimeoutMs: 1_000, commandTimeoutMs: 200 });
    try {
      await adapter.execute([{ kind: 'set', key: 'warm', value: '1' }]);
      // The server stops processing client commands for a while; ours must not wait it out.
      await server.cli('CLIENT', 'PAUSE', '1500', 'ALL');
      const results = await adapter.execute(batch);
      expectAllUnavailable(results, /timed out/i);
      expect(errorsOf(results)[0]?.message).toMatch(/unknown outcome/);
    } finally {
      await adapter.close();
      await server.stop();
    }
  }, 10_000);
});
