/**
 * Suite-level Redis fixtures: register `beforeAll`/`afterAll` hooks that start the servers once
 * per `describe` and stop them afterwards. Read the fields inside tests or hooks, not at
 * collection time: the servers exist only once `beforeAll` has run.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisClusterServers, type RedisServer, startRedis, startRedisCluster } from './redis-servers.js';

/** A standalone server and a 3-node cluster, for suites that compare the two topologies. */
export interface StandaloneAndCluster {
  readonly server: RedisServer;
  readonly cluster: RedisClusterServers;
}

/** A 3-node cluster and an ioredis cluster client of the test's own, to inspect what the adapter wrote. */
export interface ClusterWithClient {
  readonly cluster: RedisClusterServers;
  readonly raw: Cluster;
}

function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not started: read it inside a test or hook, after beforeAll`);
  return value;
}

/** Start a standalone server and a 3-node cluster (in parallel) for the enclosing suite. */
export function useStandaloneAndCluster(): StandaloneAndCluster {
  let server: RedisServer | undefined;
  let cluster: RedisClusterServers | undefined;
  beforeAll(async () => {
    [server, cluster] = await Promise.all([startRedis(), startRedisCluster({ nodes: 3 })]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), cluster?.stop()]);
  });
  return {
    get server() {
      return started(server, 'the standalone Redis server');
    },
    get cluster() {
      return started(cluster, 'the Redis cluster');
    },
  };
}

/** Start a 3-node cluster and connect a raw cluster client to it for the enclosing suite. */
export function useClusterWithClient(): ClusterWithClient {
  let cluster: RedisClusterServers | undefined;
  let raw: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ nodes: 3 });
    raw = new Cluster([...cluster.nodes]);
  });
  afterAll(async () => {
    raw?.disconnect();
    await cluster?.stop();
  });
  return {
    get cluster() {
      return started(cluster, 'the Redis cluster');
    },
    get raw() {
      return started(raw, 'the raw cluster client');
    },
  };
}
