/**
 * Cold start: bytes and module load time of Lambda-style bundles of the Redis and Memcached
 * handlers, next to bundles of the raw clients alone.
 *
 * Run: `npm run bench:cold-start` (option: `--runs 15`).
 *
 * Load time is measured in a fresh `node` process per sample: from before `require(bundle)` to
 * a client ready to connect (the fixtures' `preload` evaluates the client library, which the
 * adapters otherwise load on the first batch). Node's own startup is excluded. Samples of all
 * bundles are interleaved so machine noise hits them alike; medians are reported. Beside wall
 * time, each sample records the process's CPU time over the same span (`process.cpuUsage`,
 * which includes V8's compiler and GC threads): on a shared machine it moves less than wall
 * time, which also counts time spent waiting for a core.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundle, BUNDLES, type Bundle, type BundleName } from './lib/bundles.js';
import { benchBuildDir, fmt, intArg, machineInfo, median, printMachine, printTable, saveResult } from './lib/report.js';

const execFileAsync = promisify(execFile);

const PROBE = `
const { performance } = require('node:perf_hooks');
const cpu = process.cpuUsage();
const start = performance.now();
const mod = require(process.argv[1]);
Promise.resolve(typeof mod.preload === 'function' ? mod.preload() : undefined).then(() => {
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, rss: process.memoryUsage().rss }));
  process.exit(0);
});
`;

interface LoadSample {
  readonly ms: number;
  readonly cpuMs: number;
  readonly rss: number;
}

async function loadSample(file: string): Promise<LoadSample> {
  const { stdout } = await execFileAsync(process.execPath, ['-e', PROBE, file], { timeout: 60_000 });
  return JSON.parse(stdout) as LoadSample;
}

const runs = intArg('runs', 15);
const machine = machineInfo();
printMachine(machine);

const names = Object.keys(BUNDLES) as BundleName[];
const built: Bundle[] = [];
for (const name of names) built.push(await bundle(name));
const dir = join(benchBuildDir(), 'bundles');
mkdirSync(dir, { recursive: true });
const files = new Map<BundleName, string>();
for (const b of built) {
  const file = join(dir, `${b.name}.cjs`);
  writeFileSync(file, b.text);
  files.set(b.name, file);
}

// The example handlers need the AWS SDK client at load time (external, as on Lambda); it is a
// dev dependency here, resolved from the repository's node_modules.
const timed = names.filter((n) => n !== 'root-entry');
const samples = new Map<BundleName, number[]>(timed.map((n) => [n, []]));
const cpuSamples = new Map<BundleName, number[]>(timed.map((n) => [n, []]));
const rss = new Map<BundleName, number[]>(timed.map((n) => [n, []]));
for (let run = 0; run < runs; run++) {
  for (const name of timed) {
    const sample = await loadSample(files.get(name) as string);
    samples.get(name)?.push(sample.ms);
    cpuSamples.get(name)?.push(sample.cpuMs);
    rss.get(name)?.push(sample.rss);
  }
  process.stderr.write(`run ${run + 1}/${runs}\n`);
}

const by = (name: BundleName) => built.find((b) => b.name === name) as Bundle;
const loadMs = (name: BundleName) => median(samples.get(name) ?? []);
const cpuMs = (name: BundleName) => median(cpuSamples.get(name) ?? []);
/** Per-run ratios of `name` over `base` (the samples of one run were taken back to back). */
const runRatios = (from: Map<BundleName, number[]>, name: BundleName, base: BundleName): number[] => {
  const baseline = from.get(base) ?? [];
  return (from.get(name) ?? []).map((value, i) => value / (baseline[i] ?? Number.NaN));
};
const spread = (ratios: readonly number[]) => `${fmt(Math.min(...ratios))}-${fmt(Math.max(...ratios))}`;
const rows = built.map((b) => {
  const top = Object.entries(b.bytesByPackage)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 4)
    .map(([pkg, bytes]) => `${pkg} ${fmt(bytes / 1024, 1)}k`)
    .join(', ');
  const containsIoredis = b.inputs.some((i) => i.includes('node_modules/ioredis/'));
  return [
    b.name,
    fmt(b.bytes),
    samples.has(b.name) ? fmt(loadMs(b.name), 1) : '-',
    cpuSamples.has(b.name) ? fmt(cpuMs(b.name), 1) : '-',
    rss.has(b.name) ? fmt(median(rss.get(b.name) ?? []) / 1_048_576, 1) : '-',
    containsIoredis ? 'yes' : 'no',
    top,
  ];
});
printTable(
  `Bundles (esbuild, minified, cjs; load = median of ${runs} fresh processes)`,
  ['bundle', 'bytes', 'load ms', 'load CPU ms', 'RSS MiB', 'ioredis inside', 'largest parts'],
  rows,
);

const ratios = {
  redisBytes: by('redis-handler').bytes / by('raw-ioredis').bytes,
  redisLoad: loadMs('redis-handler') / loadMs('raw-ioredis'),
  redisLoadCpu: cpuMs('redis-handler') / cpuMs('raw-ioredis'),
  memcachedBytes: by('memcached-handler').bytes / by('raw-memjs').bytes,
  memcachedLoad: loadMs('memcached-handler') / loadMs('raw-memjs'),
  memcachedLoadCpu: cpuMs('memcached-handler') / cpuMs('raw-memjs'),
};
const pairs = [
  ['redis', 'redis-handler', 'raw-ioredis'],
  ['memcached', 'memcached-handler', 'raw-memjs'],
] as const;
printTable(
  `Handler over raw client (load: ratio of medians; per run: lowest-highest ratio of the ${runs} back-to-back pairs)`,
  ['cache', 'bytes ratio', 'load time ratio', 'per run', 'load CPU ratio', 'per run'],
  pairs.map(([cache, name, base]) => [
    cache,
    fmt(by(name).bytes / by(base).bytes),
    fmt(loadMs(name) / loadMs(base)),
    spread(runRatios(samples, name, base)),
    fmt(cpuMs(name) / cpuMs(base)),
    spread(runRatios(cpuSamples, name, base)),
  ]),
);
saveResult('cold-start', {
  machine,
  runs,
  bundles: built.map((b) => ({
    name: b.name,
    bytes: b.bytes,
    loadMsMedian: samples.has(b.name) ? loadMs(b.name) : undefined,
    loadMsSamples: samples.get(b.name),
    loadCpuMsMedian: cpuSamples.has(b.name) ? cpuMs(b.name) : undefined,
    loadCpuMsSamples: cpuSamples.get(b.name),
    rssBytesMedian: rss.has(b.name) ? median(rss.get(b.name) ?? []) : undefined,
    bytesByPackage: b.bytesByPackage,
  })),
  ratios,
});
