/**
 * Command-line driver of the consistency checker: starts the chosen cache servers on loopback,
 * runs each scenario, prints a table, stops the servers. Run through `run.mjs`.
 *
 * @module
 */
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import { supportsVersioned, type CacheAdapter } from '../../src/core/commands.js';
import { runConsistencyCheck, SCENARIOS, type CheckReport, type DrainedRun, type Scenario } from './checker.js';
import { monitorDrainedRun, monitorTable } from './monitor.js';
import { runTagCheck, TAG_SCENARIOS, type TagCheckReport } from './tag-checker.js';

export type Backend = 'memory' | 'redis' | 'redis-cluster' | 'memcached';
const BACKENDS: readonly Backend[] = ['memory', 'redis', 'redis-cluster', 'memcached'];

interface Args {
  ops: number;
  backends: Backend[];
  scenarios: Scenario[];
  items: number;
  concurrency: number;
  shards: number;
  parallelization: number;
  sharedKeys: number;
  seed: number;
  json: boolean;
  monitor: boolean;
  plantStale: boolean;
  /** Run the query-cache (tags) and not-found scenarios instead of the key scenarios. */
  tags: boolean;
}

function parse(argv: readonly string[]): Args {
  const args: Args = {
    ops: 100_000,
    backends: ['memory'],
    scenarios: [...SCENARIOS],
    items: 500,
    concurrency: 64,
    shards: 4,
    parallelization: 1,
    sharedKeys: 0,
    seed: 1,
    json: false,
    monitor: false,
    plantStale: false,
    tags: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1] ?? '';
    const take = () => {
      i++;
      return value;
    };
    switch (flag) {
      case '--ops':
        args.ops = Number(take().replace(/_/g, ''));
        break;
      case '--backend': {
        const v = take();
        args.backends = v === 'all' ? [...BACKENDS] : (v.split(',') as Backend[]);
        break;
      }
      case '--tags':
        args.tags = true;
        break;
      case '--scenarios':
        args.scenarios = take().split(',') as Scenario[];
        break;
      case '--items':
        args.items = Number(take());
        break;
      case '--concurrency':
        args.concurrency = Number(take());
        break;
      case '--shards':
        args.shards = Number(take());
        break;
      case '--parallelization':
        args.parallelization = Number(take());
        break;
      case '--shared-keys':
        args.sharedKeys = Number(take());
        break;
      case '--seed':
        args.seed = Number(take());
        break;
      case '--json':
        args.json = true;
        break;
      case '--monitor':
        args.monitor = true;
        break;
      case '--plant-stale':
        args.plantStale = true;
        break;
      default:
        throw new Error(
          `unknown option ${String(flag)}; use --ops N --backend memory|redis|redis-cluster|memcached|all [--scenarios a,b] [--items N] [--concurrency N] [--shards N] [--parallelization 1-10] [--shared-keys N] [--seed N] [--json] [--monitor] [--plant-stale] [--tags]`,
        );
    }
  }
  for (const b of args.backends) if (!BACKENDS.includes(b)) throw new Error(`unknown backend ${b}; one of ${BACKENDS.join(', ')}, all`);
  for (const s of args.scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
  if (!Number.isInteger(args.ops) || args.ops <= 0) throw new Error('--ops must be a positive integer');
  if (!Number.isInteger(args.shards) || args.shards <= 0) throw new Error('--shards must be a positive integer');
  // Lambda's ParallelizationFactor range.
  if (!Number.isInteger(args.parallelization) || args.parallelization < 1 || args.parallelization > 10)
    throw new Error('--parallelization must be an integer from 1 to 10');
  if (!Number.isInteger(args.sharedKeys) || args.sharedKeys < 0) throw new Error('--shared-keys must be a non-negative integer');
  return args;
}

/** Start a backend's server(s) on loopback and build an adapter for it. */
export async function startBackend(backend: Backend): Promise<{ adapter: CacheAdapter; stop: () => Promise<void> }> {
  switch (backend) {
    case 'memory': {
      return { adapter: memoryAdapter(), stop: async () => {} };
    }
    case 'redis': {
      const { startRedis } = await import('../../test/helpers/redis-servers.js');
      const { redisAdapter } = await import('../../src/adapters/redis/index.js');
      const server = await startRedis();
      // Long timeouts: a loaded benchmark machine is not an outage.
      const adapter = redisAdapter({ url: server.url, commandTimeoutMs: 10_000 });
      return { adapter, stop: async () => (await adapter.close(), await server.stop()) };
    }
    case 'redis-cluster': {
      const { startRedisCluster } = await import('../../test/helpers/redis-servers.js');
      const { redisAdapter } = await import('../../src/adapters/redis/index.js');
      const cluster = await startRedisCluster();
      const adapter = redisAdapter({ url: cluster.url, cluster: true, commandTimeoutMs: 10_000 });
      return { adapter, stop: async () => (await adapter.close(), await cluster.stop()) };
    }
    case 'memcached': {
      const { startMemcachedPool } = await import('../../test/helpers/memcached-servers.js');
      const { memcachedAdapter } = await import('../../src/adapters/memcached/index.js');
      const pool = await startMemcachedPool(2);
      const adapter = memcachedAdapter({ servers: pool.servers, timeoutMs: 10_000 });
      return { adapter, stop: async () => (await adapter.close(), await pool.stop()) };
    }
  }
}

/** Scenarios whose read path or writes need versioned commands and leases. */
export function needsVersioned(scenario: Scenario): boolean {
  return scenario.endsWith('+leases');
}

/** The tags and not-found scenarios on each backend; exit 1 when a path that promises consistency left a stale entry. */
async function mainTags(args: Args): Promise<number> {
  const rows: TagCheckReport[] = [];
  for (const backend of args.backends) {
    const { adapter, stop } = await startBackend(backend);
    try {
      for (const scenario of TAG_SCENARIOS) {
        process.stderr.write(`${backend} ${scenario}: `);
        const report = await runTagCheck({ adapter, scenario, ops: args.ops, seed: args.seed });
        process.stderr.write(`${report.stale} stale at end in ${report.seconds} s\n`);
        rows.push({ ...report, adapter: backend });
      }
    } finally {
      await stop();
    }
  }
  const lines = [
    '| backend | scenario | ops | reads | writes | stream records | injected failures | replays | stale at end | seconds |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.adapter} | ${r.scenario} | ${r.ops} | ${r.reads} | ${r.writes} | ${r.streamRecords} | ${r.injectedFailures} | ${r.replays} | **${r.stale}** | ${r.seconds} |`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const r of rows) if (r.examples.length > 0) process.stdout.write(`\n${r.adapter} ${r.scenario} stale example: ${JSON.stringify(r.examples[0])}\n`);
  const promised = (r: TagCheckReport) => r.scenario !== 'naive-query' && r.scenario !== 'tags-gsi-lag';
  return rows.some((r) => promised(r) && r.stale > 0) ? 1 : 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parse(argv);
  if (args.tags) return mainTags(args);
  const rows: (CheckReport | { scenario: Scenario; adapter: string; skipped: string })[] = [];
  for (const backend of args.backends) {
    const { adapter, stop } = await startBackend(backend);
    // Ctrl-C or a kill must not leave the servers behind.
    const onSignal = (signal: NodeJS.Signals) => {
      void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      for (const scenario of args.scenarios) {
        if (needsVersioned(scenario) && !supportsVersioned(adapter)) {
          rows.push({ scenario, adapter: backend, skipped: 'adapter does not implement versioned commands and leases yet' });
          continue;
        }
        process.stderr.write(`${backend} ${scenario}: `);
        const report = await runConsistencyCheck({
          adapter,
          scenario,
          ops: args.ops,
          items: args.items,
          concurrency: args.concurrency,
          shards: args.shards,
          parallelization: args.parallelization,
          sharedKeys: args.sharedKeys,
          seed: args.seed,
          onProgress: () => process.stderr.write('.'),
          plantStale: args.plantStale,
          ...(args.monitor ? { afterDrain: (run: DrainedRun) => monitorDrainedRun(run) } : {}),
        });
        process.stderr.write(
          ` ${report.staleReads} stale reads, ${report.stale} stale at end, ${report.sharedStale} shared keys stale, ${report.cacheErrors} cache errors, in ${report.seconds} s (ops ${report.phases.opsSeconds} s, drain ${report.phases.drainSeconds} s)\n`,
        );
        rows.push({ ...report, adapter: backend });
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await stop();
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else {
    const lines = [
      '| backend | scenario | ops | reads | cache hits | writes | stream records | deliveries | injected failures | replays | stale reads | stale at end | shared keys stale | seconds |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const r of rows) {
      if ('skipped' in r) lines.push(`| ${r.adapter} | ${r.scenario} | skipped: ${r.skipped} | | | | | | | | | | | |`);
      else {
        lines.push(
          `| ${r.adapter} | ${r.scenario} | ${r.ops} | ${r.reads} | ${r.hits} | ${r.writes} | ${r.streamRecords} | ${r.deliveries} | ${r.injectedFailures} | ${r.replays} | **${r.staleReads}** | **${r.stale}** | **${r.sharedStale}** | ${r.seconds} |`,
        );
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    if (args.monitor) process.stdout.write(`\n${monitorTable(rows)}\n`);
    for (const r of rows)
      if (!('skipped' in r) && r.examples.length > 0) process.stdout.write(`\n${r.adapter} ${r.scenario} stale example: ${JSON.stringify(r.examples[0])}\n`);
  }
  // Exit 1 when a path that promises consistency left a stale entry.
  return rows.some((r) => !('skipped' in r) && needsVersioned(r.scenario) && (r.stale > 0 || r.staleReads > 0)) ? 1 : 0;
}
