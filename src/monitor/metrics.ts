/**
 * The monitor's EMF line: the same shape, namespace and dimensions as the handler's
 * (`src/lambda/metrics.ts`), with the monitor's own metric names.
 *
 * @module
 */
import type { MetricsOptions } from '../lambda/config.js';
import { emfLine, type MetricUnit } from '../lambda/metrics.js';

/** Counters of one {@link ConsistencyMonitor.check}. */
export interface MonitorMetrics {
  /** Records in the batch. */
  Records: number;
  /** Records the sampling picked. */
  SampledRecords: number;
  /** Keys judged consistent or stale. */
  CheckedKeys: number;
  /** Keys found stale (a subset of `CheckedKeys`). */
  StaleKeys: number;
  /** Keys whose cache or table read failed: neither consistent nor stale. */
  UncheckedKeys: number;
  /** Stale keys deleted by `repair`. */
  RepairedKeys: number;
  /** Records no rule could plan (the handler reports these too). */
  InvalidRecords: number;
  /** Age of the oldest record when the batch arrived: the stream's lag to the monitor. */
  StreamLagMs: number | undefined;
  /** Age of the record behind the oldest stale finding when it was confirmed. */
  StaleAgeMs: number | undefined;
}

const UNITS: Record<keyof MonitorMetrics, MetricUnit> = {
  Records: 'Count',
  SampledRecords: 'Count',
  CheckedKeys: 'Count',
  StaleKeys: 'Count',
  UncheckedKeys: 'Count',
  RepairedKeys: 'Count',
  InvalidRecords: 'Count',
  StreamLagMs: 'Milliseconds',
  StaleAgeMs: 'Milliseconds',
};

/** Build the EMF document of one check. Dimension `Monitor: <adapter>` keeps its metrics apart from the handler's. */
export function monitorEmfDocument(metrics: MonitorMetrics, adapter: string, options: MetricsOptions, now: number): Record<string, unknown> {
  return emfLine(metrics, UNITS, { Monitor: adapter }, options, now);
}
