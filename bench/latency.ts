/**
 * Batch cost over a network: the same variants as the throughput benchmark, through a local
 * TCP proxy that adds a round-trip time (0.5 ms and 2 ms by default, a Lambda in a VPC talking
 * to ElastiCache in the same or another Availability Zone), plus the round trips each batch
 * needs, counted at the proxy.
 *
 * Run: `npm run bench:latency` (options: `--runs 5 --sizes 100,1000,10000 --rtts 0.5,2`).
 *
 * Round trips are counted in a separate pass with a 200 ms RTT, far longer than any pause of the
 * client between two writes of one pipeline (GC, a loaded machine), so each flight the proxy
 * counts is a wait for the server (see `lib/delay-proxy.ts`). The naive port is counted on a
 * 20-record batch, since it needs one RTT per record.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { CacheCommand } from '../src/core/commands.js';
import { startMemcached } from '../test/helpers/memcached-servers.js';
import { startRedis } from '../test/helpers/redis-servers.js';
import type { ProxyCounts } from './lib/delay-proxy.js';
import { startProxyInWorker, type WorkerProxy } from './lib/proxy.js';
import { argValue, fmt, intArg, intListArg, machineInfo, median, printMachine, printTable, saveResult } from './lib/report.js';
import { commandsOf, memcachedVariants, redisVariants, runnerOf, VARIANTS, type Variant, type VariantRunners } from './lib/variants.js';
import { makeEvent } from './lib/workload.js';

/** Largest batch the naive port is timed on: beyond it one run takes many seconds per RTT. */
const NAIVE_MAX = 1_000;
/** One-way delay of the counting pass (RTT 200 ms): far longer than any pause of the client. */
const COUNTING_DELAY_MS = 100;
/** The naive port is counted on a batch this small (it needs one RTT per record). */
const NAIVE_COUNT_RECORDS = 20;

interface Target {
  readonly name: 'redis' | 'memcached';
  /** Build the runners against a cache reachable on `port`. */
  readonly runners: (port: number) => VariantRunners;
}

const redisTarget: Target = { name: 'redis', runners: (port) => redisVariants(port) };
const memcachedTarget: Target = { name: 'memcached', runners: (port) => memcachedVariants(`127.0.0.1:${port}`) };

interface Batch {
  readonly size: number;
  readonly event: DynamoDBStreamEvent;
  readonly commands: CacheCommand[];
}

function batches(sizes: readonly number[]): Batch[] {
  return sizes.map((size) => {
    const event = makeEvent(size);
    return { size, event, commands: commandsOf(event) };
  });
}

interface TimingRow {
  readonly target: string;
  readonly rttMs: number;
  readonly size: number;
  /** Median milliseconds per batch, per variant (undefined: not run). */
  readonly batchMs: Partial<Record<Variant, number>>;
  /** Per variant, its time over ours within each run (> 1: ours faster): median and smallest run. */
  readonly overOurs: Partial<Record<Variant, { median: number; min: number }>>;
}

async function timeBatches(target: Target, server: number, rttMs: number, all: readonly Batch[], runs: number): Promise<TimingRow[]> {
  const proxy = await startProxyInWorker({ targetPort: server, oneWayDelayMs: rttMs / 2 });
  const { runners, close } = target.runners(proxy.port);
  const rows: TimingRow[] = [];
  try {
    for (const batch of all) {
      const variants = VARIANTS.filter((v) => v !== 'naive' || batch.size <= NAIVE_MAX);
      for (const variant of variants) await runnerOf(runners, variant)(batch.event, batch.commands); // warm-up: connect, JIT
      const times: Record<string, number[]> = {};
      for (let run = 0; run < runs; run++) {
        const order = variants.map((_, i) => variants[(i + run) % variants.length] as Variant);
        for (const variant of order) {
          const start = performance.now();
          await runnerOf(runners, variant)(batch.event, batch.commands);
          (times[variant] ??= []).push(performance.now() - start);
        }
      }
      const batchMs: Partial<Record<Variant, number>> = {};
      const overOurs: Partial<Record<Variant, { median: number; min: number }>> = {};
      for (const variant of variants) {
        batchMs[variant] = median(times[variant] ?? []);
        // Ratios are taken within a run (both timed back to back), then summarized over runs.
        const ratios = (times[variant] ?? []).map((ms, run) => ms / (times['ours']?.[run] ?? Number.NaN));
        overOurs[variant] = { median: median(ratios), min: Math.min(...ratios) };
      }
      process.stderr.write(`${target.name} rtt ${rttMs} ms, ${batch.size} records: ${variants.map((v) => `${v}=${fmt(batchMs[v])} ms`).join(' ')}\n`);
      rows.push({ target: target.name, rttMs, size: batch.size, batchMs, overOurs });
    }
  } finally {
    await close();
    await proxy.close();
  }
  return rows;
}

interface CountRow {
  readonly target: string;
  readonly variant: Variant;
  readonly size: number;
  readonly counts: ProxyCounts;
  /** connections (one handshake each) + request flights. */
  readonly roundTrips: number;
}

async function countRoundTrips(target: Target, server: number, all: readonly Batch[]): Promise<CountRow[]> {
  const proxy: WorkerProxy = await startProxyInWorker({ targetPort: server, oneWayDelayMs: COUNTING_DELAY_MS });
  const { runners, close } = target.runners(proxy.port);
  const rows: CountRow[] = [];
  const naiveBatch = batches([NAIVE_COUNT_RECORDS])[0] as Batch;
  try {
    for (const batch of [...all, naiveBatch]) {
      for (const variant of VARIANTS) {
        if ((variant === 'naive') !== (batch === naiveBatch)) continue;
        await runnerOf(runners, variant)(batch.event, batch.commands); // warm: connections made, as in a warm Lambda
        await proxy.reset();
        await runnerOf(runners, variant)(batch.event, batch.commands);
        const counts = await proxy.counts();
        rows.push({ target: target.name, variant, size: batch.size, counts, roundTrips: counts.connections + counts.flights });
      }
    }
  } finally {
    await close();
    await proxy.close();
  }
  return rows;
}

const runs = intArg('runs', 5);
const sizes = intListArg('sizes', [100, 1_000, 10_000]);
const rtts = (argValue('rtts') ?? '0.5,2').split(',').map(Number);
if (rtts.some((r) => !(r > 0))) throw new Error('--rtts must be positive milliseconds, e.g. 0.5,2');
const machine = machineInfo();
printMachine(machine);

const all = batches(sizes);
const timings: TimingRow[] = [];
const counts: CountRow[] = [];
for (const target of [redisTarget, memcachedTarget]) {
  const redis = target.name === 'redis' ? await startRedis() : undefined;
  const memcached = target.name === 'memcached' ? await startMemcached() : undefined;
  const port = redis?.port ?? memcached?.node.port;
  if (port === undefined) throw new Error('no server started');
  try {
    for (const rtt of rtts) timings.push(...(await timeBatches(target, port, rtt, all, runs)));
    counts.push(...(await countRoundTrips(target, port, all)));
  } finally {
    await redis?.stop();
    await memcached?.stop();
  }
}

console.log(
  `\nmedian of ${runs} runs, ratios taken within each run (smallest run in brackets); the naive port is timed up to ${NAIVE_MAX.toLocaleString('en-US')} records`,
);
printTable(
  'Milliseconds per batch with added RTT (and the batch cost in RTTs)',
  ['cache', 'RTT ms', 'records', 'ours', 'ceiling', 'classic', 'naive', 'classic/ours (min)', 'naive/ours (min)'],
  timings.map((row) => {
    const cell = (v: Variant) => {
      const ms = row.batchMs[v];
      return ms === undefined ? '-' : `${fmt(ms, 1)} (${fmt(ms / row.rttMs, 1)})`;
    };
    const ratio = (v: Variant) => {
      const r = row.overOurs[v];
      return r === undefined ? '-' : `${fmt(r.median)} (${fmt(r.min)})`;
    };
    return [row.target, String(row.rttMs), fmt(row.size), cell('ours'), cell('ceiling'), cell('classic'), cell('naive'), ratio('classic'), ratio('naive')];
  }),
);
printTable(
  `Round trips per warm invocation (counted at the proxy, RTT ${2 * COUNTING_DELAY_MS} ms)`,
  ['cache', 'variant', 'records', 'new connections', 'request flights', 'round trips', 'request bytes'],
  counts.map((row) => [
    row.target,
    row.variant,
    fmt(row.size),
    String(row.counts.connections),
    String(row.counts.flights),
    String(row.roundTrips),
    fmt(row.counts.requestBytes),
  ]),
);
saveResult('latency', { machine, runs, rtts, countingRttMs: 2 * COUNTING_DELAY_MS, timings, counts });
