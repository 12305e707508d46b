/**
 * Batch throughput on loopback: the library's handler next to the hand-written handler a team
 * would write, the raw client's ceiling, the classic blog Lambda and the naive port, on a real
 * redis-server and a real memcached.
 *
 * Run: `npm run bench:throughput` (options: `--runs 7 --sizes 1000,10000 --mode
 * write-through|invalidate|versioned --keys unique|repeated --caches redis,memcached`).
 * Classic and naive run in `write-through` mode only; versioned has no raw ceiling. The
 * hand-written versioned Memcached variant is a GET/CAS loop per record (lib/memcached-cas.ts).
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
import { argValue, fmt, intArg, intListArg, machineInfo, median, printMachine, printTable, range, saveResult } from './lib/report.js';
import { ALL_VARIANTS, commandsOf, memcachedVariants, redisVariants, type Runner, runnerOf, type Variant } from './lib/variants.js';
import { makeEvent, type Mode, MODES, RULES } from './lib/workload.js';

const execFileAsync = promisify(execFile);
const RECORDS_PER_TIMING = 10_000;

interface SizeResult {
  readonly size: number;
  /** Median records/second per variant. */
  readonly recordsPerSecond: Partial<Record<Variant, number>>;
  /** Median client CPU time (user + system) per record, in microseconds, per variant. */
  readonly cpuMicrosPerRecord: Partial<Record<Variant, number>>;
  /** [min, max] records/second per variant over the runs. */
  readonly spread: Partial<Record<Variant, [number, number]>>;
  /** Medians over runs of the per-run ratios (NaN when the other variant did not run). */
  readonly oursOverHandwritten: number;
  /** Smallest per-run ratio ours/hand-written (a cell is met when no run is below 0.9). */
  readonly oursOverHandwrittenMin: number;
  readonly oursOverCeiling: number;
  readonly oursOverClassic: number;
  readonly oursOverNaive: number;
  /** Median ms to plan the batch (pure CPU, no I/O). */
  readonly planMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function measure(label: string, runners: Partial<Record<Variant, Runner>>, sizes: readonly number[], runs: number): Promise<SizeResult[]> {
  const results: SizeResult[] = [];
  const VARIANTS = ALL_VARIANTS.filter((v) => runners[v] !== undefined);
  for (const size of sizes) {
    const event = makeEvent(size, 42, { repeatKeys: keys === 'repeated' });
    const commands = commandsOf(event, RULES[mode]);
    const iterations = Math.max(1, Math.ceil(RECORDS_PER_TIMING / size));
    // Versioned: the same batch again would be a replay that every variant refuses after one GET,
    // so each timed batch carries newer versions than the last (built outside the timing).
    let versionBase = 0;
    const nextBatch = () => (mode === 'versioned' ? makeEvent(size, 42, { repeatKeys: keys === 'repeated', versionBase: (versionBase += 10) }) : event);
    for (const variant of VARIANTS) await runnerOf(runners, variant)(event, commands); // warm-up

    const perRun: Partial<Record<Variant, number>>[] = [];
    const cpuPerRun: Partial<Record<Variant, number>>[] = [];
    const planTimes: number[] = [];
    for (let run = 0; run < runs; run++) {
      const rates: Partial<Record<Variant, number>> = {};
      const cpu: Partial<Record<Variant, number>> = {};
      // Rotate the order so no variant always runs first (cold caches) or last.
      const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length] as Variant);
      for (const variant of order) {
        const run = runnerOf(runners, variant);
        let seconds = 0;
        let cpuMicros = 0;
        for (let i = 0; i < iterations; i++) {
          const batch = nextBatch();
          if (i === 0 || batch !== event) gc();
          const cpuStart = process.cpuUsage();
          const start = performance.now();
          await run(batch, commands);
          seconds += (performance.now() - start) / 1000;
          const used = process.cpuUsage(cpuStart);
          cpuMicros += used.user + used.system;
        }
        rates[variant] = (size * iterations) / seconds;
        cpu[variant] = cpuMicros / (size * iterations);
      }
      perRun.push(rates);
      cpuPerRun.push(cpu);
      gc();
      const planStart = performance.now();
      planCommands(event.Records, RULES[mode]);
      planTimes.push(performance.now() - planStart);
      process.stderr.write(`${label} ${size}: run ${run + 1}/${runs} ${VARIANTS.map((v) => `${v}=${Math.round(rates[v] ?? Number.NaN)}`).join(' ')}\n`);
    }
    const pick = (variant: Variant) => perRun.map((rates) => rates[variant] ?? Number.NaN);
    const ratios = (other: Variant) => perRun.map((rates) => (rates.ours ?? Number.NaN) / (rates[other] ?? Number.NaN));
    const ratio = (other: Variant) => median(ratios(other));
    results.push({
      size,
      recordsPerSecond: Object.fromEntries(VARIANTS.map((v) => [v, median(pick(v))])),
      cpuMicrosPerRecord: Object.fromEntries(VARIANTS.map((v) => [v, median(cpuPerRun.map((c) => c[v] ?? Number.NaN))])),
      spread: Object.fromEntries(VARIANTS.map((v) => [v, range(pick(v))])),
      oursOverHandwritten: ratio('handwritten'),
      oursOverHandwrittenMin: Math.min(...ratios('handwritten')),
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
    const { runners, close } = redisVariants(server.port, server.host, mode);
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
    const { runners, close } = memcachedVariants(pool.servers, mode);
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
    [
      'records',
      ...ALL_VARIANTS.map((v) => `${v} rec/s`),
      'ours/hand (min)',
      'ours/ceiling',
      'ours/classic',
      'ours/naive',
      'plan ms',
      `client CPU µs/rec ${ALL_VARIANTS.join('/')}`,
    ],
    results.map((r) => [
      fmt(r.size),
      ...ALL_VARIANTS.map((v) => fmt(r.recordsPerSecond[v])),
      `${fmt(r.oursOverHandwritten)} (${fmt(r.oursOverHandwrittenMin)})`,
      fmt(r.oursOverCeiling),
      fmt(r.oursOverClassic),
      fmt(r.oursOverNaive),
      fmt(r.planMs),
      ALL_VARIANTS.map((v) => fmt(r.cpuMicrosPerRecord[v], 1)).join(' / '),
    ]),
  );
}

function choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const raw = argValue(name) ?? fallback;
  const found = allowed.find((a) => a === raw);
  if (found === undefined) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return found;
}

const runs = intArg('runs', 5);
const sizes = intListArg('sizes', [100, 1000, 10_000]);
const mode: Mode = choice('mode', MODES, 'write-through');
const keys = choice('keys', ['unique', 'repeated'] as const, 'unique');
const caches = (argValue('caches') ?? 'redis,memcached').split(',');
const machine = machineInfo();
printMachine(machine);
const redis = caches.includes('redis') ? await benchRedis(sizes, runs) : undefined;
const memcached = caches.includes('memcached') ? await benchMemcached(sizes, runs) : undefined;
console.log(
  `\nmode ${mode}, ${keys} keys; median of ${runs} runs; each timing covers ${RECORDS_PER_TIMING.toLocaleString('en-US')} records (smaller batches repeated)`,
);
if (redis) {
  print('Redis (loopback)', redis.results);
  console.log(`\nredis-benchmark -P 64 -c 1 -t set -d 400 (server's own limit): ${fmt(redis.serverLimit)} SET/s`);
}
if (memcached) print('Memcached (loopback)', memcached.results);
saveResult('throughput', { machine, runs, mode, keys, redis, memcached });
