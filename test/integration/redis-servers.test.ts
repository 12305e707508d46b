import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startRedis, startRedisCluster } from '../helpers/redis-servers.js';

describe('test helpers: real redis-server processes', () => {
  it('starts a standalone server, answers commands, and removes everything on stop', async () => {
    const redis = await startRedis({ password: 'pw' });
    expect((await redis.cli('SET', 'a', '1')).trim()).toBe('OK');
    expect((await redis.cli('CONFIG', 'GET', 'dir')).includes('ddb-cache-sync-redis-')).toBe(true);
    const dir = (await redis.cli('CONFIG', 'GET', 'dir')).split('\n')[1]?.trim() ?? '';
    await redis.stop();
    expect(existsSync(dir)).toBe(false);
    await expect(redis.cli('PING')).rejects.toThrow();
  });

  it('starts a TLS server with an ACL user that a client can reach with the generated CA', async () => {
    const redis = await startRedis({
      tls: true,
      aclUsers: [{ name: 'app', password: 'app-pw', rules: ['~app:*', '+@all'] }],
    });
    try {
      const client = new Redis(redis.port, redis.host, {
        tls: { ca: redis.tls?.ca },
        username: 'app',
        password: 'app-pw',
        lazyConnect: true,
      });
      await client.connect();
      expect(await client.set('app:x', '1')).toBe('OK');
      await expect(client.set('other:x', '1')).rejects.toThrow(/NOPERM/);
      await client.quit();
    } finally {
      await redis.stop();
    }
  });

  it('creates a 3-node cluster covering all slots and moves a slot between nodes', async () => {
    const cluster = await startRedisCluster({ nodes: 3 });
    try {
      expect(cluster.ports).toHaveLength(3);
      const slot = await cluster.keySlot('foo');
      const from = await cluster.ownerOf(slot);
      const to = cluster.ports.find((port) => port !== from) ?? 0;
      await cluster.cli(from, 'SET', 'foo', 'bar');
      await cluster.moveSlot(slot, to);
      expect(await cluster.ownerOf(slot, from)).toBe(to);
      expect((await cluster.cli(to, 'GET', 'foo')).trim()).toBe('bar');
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
