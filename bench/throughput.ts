/**
 * Batch throughput on loopback: the library's handler next to the raw client's ceiling, the
 * classic blog Lambda and the naive port, on a real redis-server and a real memcached.
 *
 * Run: `npm run bench:throughput` (options: `--runs 5 --sizes 100,1000,10000`).
 *
 * Every run times each variant on the same batch, in a rotating order, after a warm-up; ratios
 * are computed within a run and the medians over runs are reported. Batches of fewer than
 * 10,000 records are repeated so every timing covers 10,000 records.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { planCommands } from '../src/core/plan.js';
import { startMemcached } from '../test/helpers/memcached-servers.js';
import { startRedis } from '../test/helpers/redis-servers.js';
import { fmt, intArg, intListArg, machineInfo, median, printMachine, printTable, range, saveResult } from './lib/report.js';
import { commandsOf, memcachedVariants, redisVariants, type Runner, VARIANTS, type Variant } from './lib/variants.js';
import { makeEvent, rules } from './lib/workload.js';

const execFileAsync = promisify(execFile);
const RECORDS_PER_TIMING = 10_000;

interface SizeResult {
  readonly size: number;
  /** Median records/second per variant. */
  readonly recordsPerSecond: Record<Variant, number>;
  /** Median client CPU time (user + system) per record, in microseconds, per variant. */
  readonly cpuMicrosPerRecord: Record<Variant, number>;
  /** [min, max] records/second per variant over the runs. */
  readonly spread: Record<Variant, [number, number]>;
  /** Medians over runs of the per-run ratios. */
  readonly oursOverCeiling: number;
  readonly oursOverClassic: number;
  readonly oursOverNaive: number;
  /** Median ms to plan the batch (pure CPU, no I/O). */
  readonly planMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function measure(
  label: string,
  runners: Record<Variant, Runner>,
  sizes: readonly number[],
  runs: number,
): Promise<SizeResult[]> {
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const event = makeEvent(size);
    const commands = commandsOf(event);
    const iterations = Math.max(1, Math.ceil(RECORDS_PER_TIMING / size));
    for (const variant of VARIANTS) await runners[variant](event, commands); // warm-up

    const perRun: Record<Variant, number>[] = [];
    const cpuPerRun: Record<Variant, number>[] = [];
    const planTimes: number[] = [];
    for (let run = 0; run < runs; run++) {
      const rates = {} as Record<Variant, number>;
      const cpu = {} as Record<Variant, number>;
      // Rotate the order so no variant always runs first (cold caches) or last.
      const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length] as Variant);
      for (const variant of order) {
        gc();
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        for (let i = 0; i < iterations; i++) await runners[variant](event, commands);
        const seconds = (performance.now() - start) / 1000;
        const used = process.cpuUsage(cpuStart);
        rates[variant] = (size * iterations) / seconds;
        cpu[variant] = (used.user + used.system) / (size * iterations);
      }
      perRun.push(rates);
      cpuPerRun.push(cpu);
      gc();
      const planStart = performance.now();
      planCommands(event.Records, rules);
      planTimes.push(performance.now() - planStart);
      process.stderr.write(`${label} ${size}: run ${run + 1}/${runs} ${VARIANTS.map((v) => `${v}=${Math.round(rates[v])}`).join(' ')}\n`);
    }
    const pick = (variant: Variant) => perRun.map((rates) => rates[variant]);
    const ratio = (other: Variant) => median(perRun.map((rates) => rates.ours / rates[other]));
    results.push({
      size,
      recordsPerSecond: Object.fromEntries(VARIANTS.map((v) => [v, median(pick(v))])) as Record<Variant, number>,
      cpuMicrosPerRecord: Object.fromEntries(VARIANTS.map((v) => [v, median(cpuPerRun.map((c) => c[v]))])) as Record<Variant, number>,
      spread: Object.fromEntries(VARIANTS.map((v) => [v, range(pick(v))])) as Record<Variant, [number, number]>,
      oursOverCeiling: ratio('ceiling'),
      oursOverClassic: ratio('classic'),
      oursOverNaive: ratio('naive'),
      planMs: median(planTimes),
    });
  }
  return results;
}

async function redisBenchmark(port: number, runs: number): Promise<number> {
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    try {
      const { stdout } = await execFileAsync(
        'redis-benchmark',
        ['-h', '127.0.0.1', '-p', String(port), '-P', '64', '-c', '1', '-t', 'set', '-n', '100000', '-d', '400', '--csv'],
        { timeout: 60_000 },
      );
      const line = stdout.split('\n').find((l) => l.startsWith('"SET"'));
      const rate = Number(line?.split(',')[1]?.replace(/"/g, ''));
      if (Number.isFinite(rate)) rates.push(rate);
      else process.stderr.write(`could not parse redis-benchmark output:\n${stdout}\n`);
    } catch (error) {
      // A reference number, not the subject: report the failure and go on with the other runs.
      process.stderr.write(`redis-benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  return median(rates);
}

async function benchRedis(sizes: readonly number[], runs: number) {
  const server = await startRedis();
  try {
    const { runners, close } = redisVariants(server.port, server.host);
    const results = await measure('redis', runners, sizes, runs);
    const serverLimit = await redisBenchmark(server.port, runs);
    await close();
    return { results, serverLimit };
  } finally {
    await server.stop();
  }
}

async function benchMemcached(sizes: readonly number[], runs: number) {
  const pool = await startMemcached();
  try {
    const { runners, close } = memcachedVariants(pool.servers);
    const results = await measure('memcached', runners, sizes, runs);
    await close();
    return { results };
  } finally {
    await pool.stop();
  }
}

function print(title: string, results: readonly SizeResult[]): void {
  printTable(
    title,
    ['records', 'ours rec/s', 'ceiling rec/s', 'classic rec/s', 'naive rec/s', 'ours/ceiling', 'ours/classic', 'ours/naive', 'plan ms', 'client CPU µs/rec ours/ceil/classic/naive'],
    results.map((r) => [
      fmt(r.size),
      fmt(r.recordsPerSecond.ours),
      fmt(r.recordsPerSecond.ceiling),
      fmt(r.recordsPerSecond.classic),
      fmt(r.recordsPerSecond.naive),
      fmt(r.oursOverCeiling),
      fmt(r.oursOverClassic),
      fmt(r.oursOverNaive),
      fmt(r.planMs),
      VARIANTS.map((v) => fmt(r.cpuMicrosPerRecord[v], 1)).join(' / '),
    ]),
  );
}

const runs = intArg('runs', 5);
const sizes = intListArg('sizes', [100, 1000, 10_000]);
const machine = machineInfo();
printMachine(machine);
const redis = await benchRedis(sizes, runs);
const memcached = await benchMemcached(sizes, runs);
console.log(`\nmedian of ${runs} runs; each timing covers ${RECORDS_PER_TIMING.toLocaleString('en-US')} records (smaller batches repeated)`);
print('Redis (loopback)', redis.results);
console.log(`\nredis-benchmark -P 64 -c 1 -t set -d 400 (server's own limit): ${fmt(redis.serverLimit)} SET/s`);
print('Memcached (loopback)', memcached.results);
saveResult('throughput', { machine, runs, redis, memcached });
