// The adapter's peer range promises ioredis 5 too: run the contract with clients built by
// ioredis 5 (installed as the dev alias `ioredis5`), which speaks RESP2 and has no HELLO
// negotiation, on a standalone server and a 3-node cluster.
import { Cluster, Redis } from 'ioredis5';
import * as vitest from 'vitest';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import { adapterContract } from '../../src/testing/index.js';
import { startRedis, startRedisCluster } from '../helpers/redis-servers.js';

function ttlVia(client: Redis | Cluster) {
  return async (key: string) => {
    const ttl = await client.ttl(key);
    return ttl < 0 ? undefined : ttl;
  };
}

vitest.describe('redisAdapter contract: ioredis 5 Redis client', () => {
  adapterContract(vitest, async () => {
    const server = await startRedis();
    const client = new Redis(server.port, server.host, { commandTimeout: 5_000, maxRetriesPerRequest: 1 });
    return {
      adapter: redisAdapter({ client }),
      ttlOf: ttlVia(client),
      stop: async () => {
        client.disconnect();
        await server.stop();
      },
    };
  });
});

vitest.describe('redisAdapter contract: ioredis 5 Cluster client', () => {
  adapterContract(vitest, async () => {
    const cluster = await startRedisCluster({ nodes: 3 });
    const client = new Cluster([...cluster.nodes], { redisOptions: { commandTimeout: 5_000, maxRetriesPerRequest: 1 } });
    return {
      adapter: redisAdapter({ client }),
      ttlOf: ttlVia(client),
      stop: async () => {
        client.disconnect();
        await cluster.stop();
      },
    };
  });
});
