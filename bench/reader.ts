/**
 * Reader path: `createCacheReader` `get` and `getOrLoad` (hit and miss) next to a raw ioredis
 * GET, on a real redis-server: time per call on loopback, and round trips per call counted at
 * the delay proxy (200 ms RTT). `getOrLoad` needs leases, which the Redis adapter has.
 *
 * Run: `npm run bench:reader` (options: `--runs 5 --ops 2000`).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { redisAdapter } from '../src/adapters/redis/index.js';
import { createCacheReader } from '../src/reader/index.js';
import { startRedis } from '../test/helpers/redis-servers.js';
import { startDelayProxy } from './lib/delay-proxy.js';
import { fmt, intArg, machineInfo, median, printMachine, printTable, saveResult } from './lib/report.js';
import { makeEvent, rules } from './lib/workload.js';
import { createStreamHandler } from '../src/lambda/handler.js';

const runs = intArg('runs', 5);
const ops = intArg('ops', 2_000);
const machine = machineInfo();
printMachine(machine);

const OPS = ['raw GET', 'reader.get (hit)', 'getOrLoad (hit)', 'getOrLoad (miss, fills)'] as const;
type Op = (typeof OPS)[number];
const loaded = { id: '1', name: 'Ada Lovelace', email: 'ada@example.com', version: 3 };

const server = await startRedis();
const results: { op: Op; microsPerCall: number; roundTrips: number; connections: number }[] = [];
try {
  const seedAdapter = redisAdapter({ url: server.url });
  // The hit keys hold what the stream handler writes.
  await createStreamHandler({ adapter: seedAdapter, rules, logger: false, metrics: false })(makeEvent(1_000));
  await seedAdapter.close();
  const hitKeys = Array.from({ length: 1_000 }, (_, i) => `user:${100_000 + i}`);
  const present: string[] = [];
  const probe = new Redis(server.port, server.host);
  for (const key of hitKeys) if ((await probe.exists(key)) === 1) present.push(key);
  probe.disconnect();

  const makeCalls = (client: Redis, reader: ReturnType<typeof createCacheReader>, missPrefix: string): Record<Op, (i: number) => Promise<unknown>> => ({
    'raw GET': (i) => client.get(present[i % present.length] as string),
    'reader.get (hit)': (i) => reader.get(present[i % present.length] as string),
    'getOrLoad (hit)': (i) => reader.getOrLoad(present[i % present.length] as string, () => Promise.resolve(loaded)),
    'getOrLoad (miss, fills)': (i) => reader.getOrLoad(`${missPrefix}:${i}`, () => Promise.resolve(loaded), { ttlSeconds: 60, versionOf: (v) => v.version }),
  });

  // Time per call on loopback.
  const adapter = redisAdapter({ url: server.url });
  const reader = createCacheReader({ adapter });
  const client = new Redis(server.port, server.host);
  const times = new Map<Op, number[]>(OPS.map((op) => [op, []]));
  for (let run = -1; run < runs; run++) {
    const calls = makeCalls(client, reader, `miss:${run}`);
    for (const op of OPS) {
      const start = performance.now();
      for (let i = 0; i < ops; i++) await calls[op](i);
      const micros = ((performance.now() - start) * 1000) / ops;
      if (run >= 0) times.get(op)?.push(micros); // run -1 warms up (script loads, JIT)
    }
    if (run >= 0) process.stderr.write(`run ${run + 1}/${runs}\n`);
  }
  client.disconnect();
  await adapter.close();

  // Round trips per call through the proxy, warm (connection open, scripts loaded).
  const proxy = await startDelayProxy({ targetPort: server.port, oneWayDelayMs: 100 });
  const slowAdapter = redisAdapter({ url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
  const slowReader = createCacheReader({ adapter: slowAdapter, waitMs: 10_000 });
  const slowClient = new Redis(proxy.port, '127.0.0.1');
  const slowCalls = makeCalls(slowClient, slowReader, 'counted-miss');
  for (const op of OPS) await slowCalls[op](0);
  for (const op of OPS) {
    proxy.reset();
    await slowCalls[op](1);
    const counts = proxy.counts();
    results.push({ op, microsPerCall: median(times.get(op) ?? []), roundTrips: counts.flights + counts.connections, connections: counts.connections });
  }
  slowClient.disconnect();
  await slowAdapter.close();
  await proxy.close();
} finally {
  await server.stop();
}

const raw = results[0]?.microsPerCall ?? Number.NaN;
printTable(
  `Reader calls on Redis (median of ${runs} runs of ${ops} sequential calls; round trips at 200 ms RTT, warm)`,
  ['call', 'µs per call (loopback)', 'over raw GET', 'round trips'],
  results.map((r) => [r.op, fmt(r.microsPerCall, 1), fmt(r.microsPerCall / raw), String(r.roundTrips)]),
);
saveResult('reader', { machine, runs, ops, results });
