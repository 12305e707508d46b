/**
 * Redis Cluster faults through the handler: a node that hangs while a batch spans every node,
 * and a slot that moves while batches flow. Checked like the standalone suite: the reported
 * record is the earliest one with a key on the failed node, nothing before it is unapplied,
 * and Lambda-style retries converge on the memory-adapter model.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keySlot, redisAdapter } from '../../src/adapters/redis/index.js';
import { planCommands } from '../../src/core/plan.js';
import type { ProcessResult } from '../../src/lambda/handler.js';
import { type CacheState, deliverLikeLambda, faultRules, modelState, processorFor, userStream } from '../helpers/fault-model.js';
import { type RedisClusterServers, startRedisCluster } from '../helpers/redis-servers.js';

let cluster: RedisClusterServers;
let direct: Map<number, Redis>;

beforeAll(async () => {
  cluster = await startRedisCluster({ nodes: 3 });
  direct = new Map(cluster.ports.map((port) => [port, new Redis(port, cluster.host, { maxRetriesPerRequest: 1 })]));
}, 60_000);
afterAll(async () => {
  for (const client of direct?.values() ?? []) client.disconnect();
  await cluster?.stop();
});
beforeEach(async () => {
  await Promise.all([...direct.values()].map((c) => c.flushall()));
});

/** Every key on every node (each node holds only its own slots). */
async function clusterState(): Promise<CacheState> {
  const state: CacheState = new Map();
  for (const client of direct.values()) {
    for (const key of await client.keys('*')) {
      const [value, pttl] = await Promise.all([client.get(key), client.pttl(key)]);
      if (value !== null) state.set(key, { value, expires: pttl > 0 });
    }
  }
  return state;
}
const sorted = (state: CacheState) => [...state.entries()].sort(([a], [b]) => a.localeCompare(b));

async function slotOwners(): Promise<Map<number, number>> {
  // The slot map as the first node sees it: slot -> port.
  const owners = new Map<number, number>();
  const text = await cluster.cli(cluster.ports[0] as number, 'CLUSTER', 'SLOTS');
  const lines = text.trim().split('\n');
  // redis-cli prints each range as: from, to, host, port, id (one value per line).
  for (let i = 0; i + 3 < lines.length; ) {
    const from = Number(lines[i]);
    const to = Number(lines[i + 1]);
    const port = Number(lines[i + 3]);
    if (!Number.isInteger(from) || !Number.isInteger(to) || !Number.isInteger(port)) {
      i++;
      continue;
    }
    for (let s = from; s <= to; s++) owners.set(s, port);
    i += 5;
  }
  return owners;
}

describe('Redis Cluster faults through the handler', () => {
  it('one node hangs (SIGSTOP) during a batch that spans every node: the earliest record on it is reported', async () => {
    const adapter = redisAdapter({ url: cluster.url, cluster: true });
    try {
      const processor = processorFor(adapter);
      const warm = userStream('cl-warm', 30, 10);
      expect((await processor.process({ Records: warm })).batchItemFailures).toEqual([]);

      const owners = await slotOwners();
      expect(owners.size).toBe(16_384);
      const batch = userStream('cl-hang', 300, 40);
      // The earliest record with a command on the hung node is what Lambda must retry from.
      // Hang the node whose first key comes latest, so records before it must apply.
      const plans = planCommands(batch, faultRules);
      const firstOn = (port: number) => plans.findIndex((p) => p.commands.some((c) => owners.get(keySlot(c.key)) === port));
      const hungPort = [...cluster.ports].sort((a, b) => firstOn(b) - firstOn(a))[0] as number;
      const expected = firstOn(hungPort);
      expect(expected).toBeGreaterThan(0);

      const pid = Number(/process_id:(\d+)/.exec(await cluster.cli(hungPort, 'INFO', 'server'))?.[1]);
      process.kill(pid, 'SIGSTOP');
      let resumed = false;
      try {
        const results = await deliverLikeLambda(processor, batch, () => {
          process.kill(pid, 'SIGCONT');
          resumed = true;
        });
        const first = results[0] as ProcessResult;
        expect(first.failedIndex).toBe(expected);
        expect(first.batchItemFailures).toEqual([{ itemIdentifier: batch[expected]?.dynamodb?.SequenceNumber }]);
        expect(results.at(-1)?.batchItemFailures).toEqual([]);
      } finally {
        if (!resumed) process.kill(pid, 'SIGCONT');
      }
      expect(sorted(await clusterState())).toEqual(sorted(await modelState(warm, batch)));
    } finally {
      await adapter.close();
    }
  }, 60_000);

  it('a slot moves while batches flow: retries converge on the model', async () => {
    const adapter = redisAdapter({ url: cluster.url, cluster: true });
    try {
      const processor = processorFor(adapter);
      // The same six users in every batch, so later batches overwrite keys whose slots moved.
      // Batches keep flowing for as long as the migrations (one at a time: concurrent ones race
      // on the cluster's config epochs) take, so writes meet slots in every migration state.
      const slots = [...new Set([0, 1, 2].map((u) => keySlot(`user:cl-move-${u}`)))];
      let moving = true;
      const moves = (async () => {
        try {
          for (const round of [0, 1]) {
            for (const slot of slots) {
              const owner = await cluster.ownerOf(slot);
              await cluster.moveSlot(slot, cluster.ports[(cluster.ports.indexOf(owner) + 1 + round) % cluster.ports.length] as number);
            }
          }
        } finally {
          moving = false;
        }
      })();
      const batches: DynamoDBRecord[][] = [];
      let attempts = 0;
      while ((moving || batches.length < 6) && batches.length < 500) {
        const batch = userStream('cl-move', 20, 6);
        batches.push(batch);
        attempts += (await deliverLikeLambda(processor, batch)).length;
      }
      await moves;
      console.info(`slot move: ${batches.length} batches took ${attempts} invocations`);
      expect(sorted(await clusterState())).toEqual(sorted(await modelState(...batches)));
    } finally {
      await adapter.close();
    }
  }, 60_000);
});
