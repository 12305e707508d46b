/**
 * A Memcached reply stream that stops making sense, through the handler: a real memcached
 * behind a fault proxy that turns the next reply into an error line, a cut frame, garbage, or
 * silence, while the connection stays open. For the adapter's own client and for a memjs
 * `Client` the user passed in: the invocation that meets the fault reports its records, the next
 * one applies them over exactly one fresh connection, and nothing stale stays behind.
 */
import memjs from 'memjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import { planCommands } from '../../src/core/plan.js';
import { deliverLikeLambda, faultRules, modelState, processorFor, userStream } from '../helpers/fault-model.js';
import { type FaultProxy, type ReplyFault, startFaultProxy } from '../helpers/fault-proxy.js';
import { type MemcachedPool, startMemcachedPool } from '../helpers/memcached-servers.js';

let pool: MemcachedPool;
let reader: CacheAdapter;
let proxy: FaultProxy;
const cleanups: (() => Promise<void> | void)[] = [];

const keysOf = (...batches: Parameters<typeof planCommands>[0][]) => [
  ...new Set(batches.flatMap((b) => planCommands(b, faultRules).flatMap((p) => p.commands.map((c) => c.key)))),
];

beforeAll(async () => {
  pool = await startMemcachedPool(1);
  reader = memcachedAdapter({ servers: pool.servers });
});
afterAll(async () => {
  await reader?.close();
  await pool?.stop();
});
beforeEach(async () => {
  const node = pool.nodes[0];
  if (node === undefined) throw new Error('no memcached node');
  proxy = await startFaultProxy({ host: node.host, port: node.port });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await proxy?.close();
});

/** The two ways to build the adapter: its own client, or a memjs `Client` the user created. */
const clients: Record<string, () => CacheAdapter> = {
  'the adapter’s own client': () => {
    const adapter = memcachedAdapter({ servers: `${proxy.host}:${proxy.port}` });
    cleanups.push(() => adapter.close());
    return adapter;
  },
  'a user-passed memjs Client': () => {
    // One attempt per command (as the docs advise), so the fault reaches the handler.
    const client = memjs.Client.create(`${proxy.host}:${proxy.port}`, { retries: 1, timeout: 0.5, logger: { log: () => undefined } });
    cleanups.push(() => client.close());
    return memcachedAdapter({ client });
  },
};

const faults: ReplyFault[] = ['error-line', 'cut-frame', 'garbage', 'stall'];

describe.each(Object.keys(clients))('Memcached reply faults with %s', (which) => {
  it.each(faults)('%s: the invocation that meets it reports its records, the next applies them over one fresh connection', async (fault) => {
    const make = clients[which];
    if (make === undefined) throw new Error(which);
    const processor = processorFor(make());
    const tag = `reply-${fault}-${which.length}`;
    const one = userStream(`${tag}-a`, 24, 6);
    expect((await processor.process({ Records: one })).batchItemFailures).toEqual([]);

    const applied = proxy.replyFault(fault);
    const two = userStream(`${tag}-b`, 24, 6);
    let acceptedBeforeRetry = 0;
    const results = await deliverLikeLambda(processor, two, async () => {
      await applied;
      acceptedBeforeRetry = proxy.accepted();
    });

    expect(results[0]?.failedIndex, 'the fault must fail the invocation that meets it').toBeDefined();
    expect(results[0]?.batchItemFailures).toHaveLength(1);
    expect(results, 'the next invocation succeeds').toHaveLength(2);
    expect(results[1]?.batchItemFailures).toEqual([]);
    // One connection per server after the reset: the retry's commands share one new connection,
    // so they reach memcached in record order.
    expect(proxy.accepted() - acceptedBeforeRetry).toBe(1);
    const keys = keysOf(one, two);
    const model = await modelState(one, two);
    const actual = new Map(await Promise.all(keys.map(async (k): Promise<[string, string | undefined]> => [k, await reader.get(k)])));
    expect(actual).toEqual(new Map(keys.map((k) => [k, model.get(k)?.value])));
  });
});
