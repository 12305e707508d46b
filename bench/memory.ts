/**
 * Memory: peak RSS while handling a 6 MB event (Lambda's largest payload) on Redis and on
 * Memcached, next to the event's size.
 *
 * Run: `npm run bench:memory` (options: `--runs 3 --megabytes 6`). Where the peak comes from, stage
 * by stage: `node bench/run.mjs memory-breakdown`.
 *
 * Each sample is a fresh child process (`memory-child.ts`): RSS after loading and one warm
 * batch (baseline), after parsing the event as the runtime does, and the peak during handling.
 * The handling cost is the peak over the after-parse RSS: what the library adds on top of the
 * event the runtime already holds.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMemcached } from '../test/helpers/memcached-servers.js';
import { startRedis } from '../test/helpers/redis-servers.js';
import { benchBuildDir, fmt, intArg, machineInfo, median, printMachine, printTable, saveResult } from './lib/report.js';
import { makeEvent } from './lib/workload.js';

const execFileAsync = promisify(execFile);
const MB = 1_000_000;
/** Extra node flags for the child, e.g. `--node-flags=--max-semi-space-size=1` to see live memory rather than uncollected young garbage. */
const NODE_FLAGS = (process.argv.find((a) => a.startsWith('--node-flags='))?.slice('--node-flags='.length) ?? '').split(' ').filter((f) => f !== '');

interface Sample {
  readonly baseline: number;
  readonly afterParse: number;
  readonly peak: number;
  readonly records: number;
  readonly eventBytes: number;
}

/** The largest workload event whose JSON fits in `limit` bytes. */
function eventOfSize(limit: number): string {
  const perRecord = JSON.stringify(makeEvent(200)).length / 200;
  let records = Math.floor(limit / perRecord);
  let text = JSON.stringify(makeEvent(records));
  while (Buffer.byteLength(text) > limit) {
    records -= Math.ceil((Buffer.byteLength(text) - limit) / perRecord) + 1;
    text = JSON.stringify(makeEvent(records));
  }
  return text;
}

async function sample(target: string, address: string, file: string, variant: 'ours' | 'classic'): Promise<Sample> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [...NODE_FLAGS, '--expose-gc', join(benchBuildDir(), 'memory-child.mjs'), target, address, file, variant],
    {
      timeout: 120_000,
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout) as Sample;
}

const runs = intArg('runs', 3);
const megabytes = intArg('megabytes', 6);
const machine = machineInfo();
printMachine(machine);

const dir = mkdtempSync(join(tmpdir(), 'ddb-cache-sync-bench-'));
const file = join(dir, 'event.json');
const redis = await startRedis();
const memcached = await startMemcached();
const results: Record<string, Sample[]> = { redis: [], 'redis classic': [], memcached: [], 'memcached classic': [] };
try {
  writeFileSync(file, eventOfSize(megabytes * MB));
  for (let run = 0; run < runs; run++) {
    results['redis']?.push(await sample('redis', redis.url, file, 'ours'));
    results['redis classic']?.push(await sample('redis', redis.url, file, 'classic'));
    results['memcached']?.push(await sample('memcached', memcached.servers, file, 'ours'));
    results['memcached classic']?.push(await sample('memcached', memcached.servers, file, 'classic'));
    process.stderr.write(`run ${run + 1}/${runs}\n`);
  }
} finally {
  await redis.stop();
  await memcached.stop();
  rmSync(dir, { recursive: true, force: true });
}

const summary = Object.entries(results).map(([target, samples]) => {
  const m = (pick: (s: Sample) => number) => median(samples.map(pick));
  const eventBytes = samples[0]?.eventBytes ?? 0;
  return {
    target,
    records: samples[0]?.records ?? 0,
    eventBytes,
    baseline: m((s) => s.baseline),
    afterParse: m((s) => s.afterParse),
    peak: m((s) => s.peak),
    handlingOverEvent: m((s) => (s.peak - s.afterParse) / eventBytes),
    totalOverEvent: m((s) => (s.peak - s.baseline) / eventBytes),
  };
});
const mib = (bytes: number) => fmt(bytes / 1_048_576, 1);
printTable(
  `Peak RSS handling a ${megabytes} MB event (median of ${runs} fresh processes; MiB)`,
  ['cache', 'records', 'event MiB', 'baseline', 'after parse', 'peak', '(peak - after parse) / event', '(peak - baseline) / event'],
  summary.map((s) => [
    s.target,
    fmt(s.records),
    mib(s.eventBytes),
    mib(s.baseline),
    mib(s.afterParse),
    mib(s.peak),
    fmt(s.handlingOverEvent),
    fmt(s.totalOverEvent),
  ]),
);
// Ours over classic, paired by run (the two samples of a run are taken back to back).
const handling = (s: Sample) => s.peak - s.afterParse;
const ratios = (['redis', 'memcached'] as const).map((cache) => {
  const ours = results[cache] ?? [];
  const classic = results[`${cache} classic`] ?? [];
  const perRun = ours.map((s, run) => handling(s) / handling(classic[run] ?? s));
  return { cache, median: median(perRun), max: Math.max(...perRun), perRun };
});
printTable(
  `Handling cost, ours over classic (peak - after parse, per run; goal <= 1.00)`,
  ['cache', 'median', 'largest run'],
  ratios.map((r) => [r.cache, fmt(r.median), fmt(r.max)]),
);
saveResult('memory', { machine, runs, megabytes, summary, ratios, samples: results });
