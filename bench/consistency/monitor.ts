/**
 * The consistency monitor attached to the checker's racing workload: after the stream drained,
 * every delivered record goes through `monitor.check` in its shard's order, in Lambda-sized
 * batches, against the checker's table. Its counts sit next to the checker's own.
 *
 * @module
 */
import type { AttributeMap } from '../../src/core/rules.js';
import { createConsistencyMonitor } from '../../src/monitor/index.js';
import type { DrainedRun } from './checker.js';

/** The monitor's counts over one run. */
export interface MonitorCounts {
  readonly records: number;
  readonly checked: number;
  readonly stale: number;
  readonly unchecked: number;
  /** Distinct keys found stale (a key touched by many batches may be found by each). */
  readonly staleKeys: number;
  /** Why the monitor did not run (Kinesis-wrapped records). */
  readonly skipped?: string;
}

/**
 * Run the monitor over a drained run: grace 0 (every record is already older than the drain),
 * a short confirming pause, the table model as `load`.
 */
export async function monitorDrainedRun(run: DrainedRun, batchSize = 100): Promise<MonitorCounts> {
  if (run.kinesis)
    return {
      records: 0,
      checked: 0,
      stale: 0,
      unchecked: 0,
      staleKeys: 0,
      skipped: 'the monitor reads DynamoDB Streams records; this scenario delivers Kinesis records',
    };
  const load = async (_table: string, keys: AttributeMap): Promise<AttributeMap | undefined> => {
    const pk = keys['pk'];
    const item = pk !== undefined && 'S' in pk ? run.table.get(pk.S) : undefined;
    return item === undefined ? undefined : { pk: { S: item.pk }, v: { N: String(item.v) }, n: { N: String(item.n) } };
  };
  const monitor = createConsistencyMonitor({ adapter: run.adapter, rules: run.rules, load, graceMs: 0, confirmMs: 5, logger: false, metrics: false });
  let records = 0;
  let checked = 0;
  let stale = 0;
  let unchecked = 0;
  const staleKeys = new Set<string>();
  for (const shard of run.shards) {
    for (let i = 0; i < shard.length; i += batchSize) {
      const batch = shard.slice(i, i + batchSize);
      const report = await monitor.check({ Records: batch });
      records += batch.length;
      checked += report.checked;
      stale += report.stale;
      unchecked += report.unchecked;
      for (const finding of report.findings) staleKeys.add(finding.keyHash);
    }
  }
  return { records, checked, stale, unchecked, staleKeys: staleKeys.size };
}

/** The checker's stale counts next to the monitor's, one row per scenario. */
export function monitorTable(
  rows: readonly ({ scenario: string; adapter: string } & ({ skipped: string } | { stale: number; staleReads: number; monitor?: unknown }))[],
): string {
  const lines = [
    '| backend | scenario | checker: stale at end | monitor: records | keys checked | stale findings | distinct stale keys | unchecked |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    if ('skipped' in r) continue;
    const m = r.monitor as MonitorCounts | undefined;
    if (m === undefined) continue;
    if (m.skipped !== undefined) lines.push(`| ${r.adapter} | ${r.scenario} | ${r.stale} | n/a: ${m.skipped} | | | | |`);
    else lines.push(`| ${r.adapter} | ${r.scenario} | **${r.stale}** | ${m.records} | ${m.checked} | ${m.stale} | **${m.staleKeys}** | ${m.unchecked} |`);
  }
  return lines.join('\n');
}
