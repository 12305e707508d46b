import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import type { AnyCacheCommand } from '../../src/core/commands.js';
import { loadCfnYaml } from '../helpers/cfn-yaml.js';
import { type RedisClusterServers, type RedisServer, startRedis, startRedisCluster } from '../helpers/redis-servers.js';

// The RBAC access string the example stack gives the function's cache user by default. The
// adapter must be able to do all its work under it, or a deployment fails on first use.
function defaultAccessString(): string[] {
  const template = loadCfnYaml(new URL('../../examples/cloudformation/stack.yaml', import.meta.url).pathname);
  const parameters = template['Parameters'] as Record<string, { Default?: unknown } | undefined> | undefined;
  const value = parameters?.['CacheAccessString']?.Default;
  if (typeof value !== 'string') throw new Error('stack.yaml has no CacheAccessString default');
  // "on" is the user state; the rest are ACL rules.
  return value.split(/\s+/).filter((rule) => rule !== '' && rule !== 'on');
}

const batch: AnyCacheCommand[] = [
  { kind: 'set', key: 'user:1', value: '{}', ttlSeconds: 60 },
  { kind: 'delete', key: 'user-by-email:a@example.com' },
  { kind: 'set-versioned', key: 'user:2', value: '{}', version: '5', ttlSeconds: 60 },
  { kind: 'delete-versioned', key: 'user:3', version: '7', tombstoneTtlSeconds: 60 },
];

describe('redisAdapter under the example stack’s default RBAC access string', () => {
  let server: RedisServer;
  let cluster: RedisClusterServers;
  beforeAll(async () => {
    const rules = defaultAccessString();
    server = await startRedis({ aclUsers: [{ name: 'fn', password: 'fn-pw', rules }] });
    cluster = await startRedisCluster({ nodes: 3 });
    for (const port of cluster.ports) {
      expect((await cluster.cli(port, 'ACL', 'SETUSER', 'fn', 'on', '>fn-pw', ...rules)).trim()).toBe('OK');
    }
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), cluster?.stop()]);
  });

  it.each([
    ['standalone', () => redisAdapter({ url: `redis://fn:fn-pw@${server.host}:${server.port}` })],
    ['cluster', () => redisAdapter({ url: `redis://fn:fn-pw@${cluster.host}:${cluster.ports[0]}`, cluster: true })],
  ])('%s: runs plain and versioned commands, leases and fills', async (_, make) => {
    const adapter = make();
    try {
      expect(await adapter.execute(batch)).toEqual(batch.map(() => ({ ok: true })));
      expect(await adapter.lease('user:3', 'reader', 5_000)).toEqual({ granted: true });
      expect(await adapter.fill('user:3', 'reader', '{"pk":"3"}', { ttlSeconds: 60 })).toBe(true);
      expect(await adapter.get('user:1')).toBe('{}');
    } finally {
      await adapter.close();
    }
  });
});
