import { Cluster, Redis } from 'ioredis';
import * as vitest from 'vitest';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import { adapterContract, type ContractHarness } from '../../src/testing/index.js';
import { adapterAclRules } from '../helpers/redis-acl.js';
import { startRedis, startRedisCluster } from '../helpers/redis-servers.js';

const USER = 'contract';
const PASSWORD = 'contract-pw';
// The ACL user may only touch contract:* keys, so a SET outside that pattern is refused with
// NOPERM while the rest of the same pipeline applies.
const refusedCommand = { kind: 'set', key: `forbidden:${process.pid}:x`, value: 'no' } as const;
// The contract sends a 10,000-command batch; ioredis times each command from when the pipeline
// is written, so on a loaded CI machine the last replies can take over the 1 s default.
const commandTimeoutMs = 5_000;

function ttlVia(client: Redis | Cluster) {
  return async (key: string) => {
    const ttl = await client.ttl(key);
    // -1: no expiry, -2: no such key.
    return ttl < 0 ? undefined : ttl;
  };
}

/** The harness of an ACL-restricted adapter: TTLs read through a raw client that closes with the servers. */
function aclHarness(adapter: CacheAdapter, raw: Redis | Cluster, servers: { stop: () => Promise<void> }): ContractHarness {
  return {
    adapter,
    ttlOf: ttlVia(raw),
    refusedCommand,
    stop: async () => {
      raw.disconnect();
      await servers.stop();
    },
  };
}

vitest.describe('redisAdapter contract: standalone, url, ACL user', () => {
  adapterContract(vitest, async () => {
    const server = await startRedis({ aclUsers: [{ name: USER, password: PASSWORD, rules: adapterAclRules('contract:*', 'ddbcs:tag:contract:*') }] });
    const raw = new Redis(server.port, server.host);
    const adapter = redisAdapter({ url: `redis://${USER}:${PASSWORD}@${server.host}:${server.port}`, commandTimeoutMs });
    return aclHarness(adapter, raw, server);
  });
});

vitest.describe('redisAdapter contract: standalone, a client the user built', () => {
  adapterContract(vitest, async () => {
    const server = await startRedis();
    const client = new Redis(server.port, server.host, { commandTimeout: 5_000, maxRetriesPerRequest: 1 });
    const adapter = redisAdapter({ client });
    return {
      adapter,
      ttlOf: ttlVia(client),
      stop: async () => {
        // The adapter leaves a user's client open: closing it is the user's job.
        await client.quit();
        await server.stop();
      },
    };
  });
});

vitest.describe('redisAdapter contract: 3-node cluster, url, ACL user', () => {
  adapterContract(vitest, async () => {
    const cluster = await startRedisCluster({ nodes: 3 });
    for (const port of cluster.ports) {
      const reply = await cluster.cli(port, 'ACL', 'SETUSER', USER, 'on', `>${PASSWORD}`, ...adapterAclRules('contract:*', 'ddbcs:tag:contract:*'));
      if (reply.trim() !== 'OK') {
        await cluster.stop();
        throw new Error(`ACL SETUSER failed on ${port}: ${reply}`);
      }
    }
    const raw = new Cluster([...cluster.nodes]);
    const adapter = redisAdapter({ url: `redis://${USER}:${PASSWORD}@${cluster.host}:${cluster.ports[0]}`, cluster: true, commandTimeoutMs });
    return aclHarness(adapter, raw, cluster);
  });
});

vitest.describe('redisAdapter contract: TLS with an ACL user', () => {
  adapterContract(vitest, async () => {
    const server = await startRedis({
      tls: true,
      aclUsers: [{ name: USER, password: PASSWORD, rules: adapterAclRules('contract:*', 'ddbcs:tag:contract:*') }],
    });
    const ca = server.tls?.ca ?? '';
    const raw = new Redis(server.port, server.host, { tls: { ca } });
    const adapter = redisAdapter({
      url: `rediss://${USER}:${encodeURIComponent(PASSWORD)}@${server.host}:${server.port}`,
      tls: { ca },
      commandTimeoutMs,
    });
    return aclHarness(adapter, raw, server);
  });
});
