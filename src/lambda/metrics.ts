/**
 * CloudWatch Embedded Metric Format: one JSON line per invocation that CloudWatch Logs turns
 * into metrics, with no API calls from the function.
 *
 * @module
 */
import type { MetricsOptions } from './config.js';

/** Per-invocation counters. */
export interface BatchMetrics {
  Records: number;
  /** Planned commands; `Commands - CoalescedCommands` of them were sent. */
  Commands: number;
  SetCommands: number;
  DeleteCommands: number;
  /** Planned commands not sent because a later command of the batch decides the same key. */
  CoalescedCommands: number;
  /** Planned commands whose effect did not reach the cache (a failed sent command fails every one it carries). */
  FailedCommands: number;
  InvalidRecords: number;
  SkippedRecords: number;
  /** Records handed back to Lambda for retry (from the reported one to the end of the batch). */
  RetriedRecords: number;
  /** Age of the oldest record in the batch, from `ApproximateCreationDateTime`. */
  StreamLagMs: number | undefined;
}

const UNITS: Record<keyof BatchMetrics, MetricUnit> = {
  Records: 'Count',
  Commands: 'Count',
  SetCommands: 'Count',
  DeleteCommands: 'Count',
  CoalescedCommands: 'Count',
  FailedCommands: 'Count',
  InvalidRecords: 'Count',
  SkippedRecords: 'Count',
  RetriedRecords: 'Count',
  StreamLagMs: 'Milliseconds',
};

/** The CloudWatch units the library's metrics use. */
export type MetricUnit = 'Count' | 'Milliseconds';

/**
 * One EMF document: each defined metric with its unit, under `dimensions` plus the user's, in
 * the configured namespace. The handler, the consistency monitor and the read-through plugin
 * all emit through this, so their lines share one shape.
 */
export function emfLine<K extends string>(
  metrics: Readonly<Record<K, number | undefined>>,
  units: Readonly<Record<K, MetricUnit>>,
  dimensions: Readonly<Record<string, string>>,
  options: MetricsOptions,
  now: number,
): Record<string, unknown> {
  const allDimensions: Record<string, string> = { ...dimensions, ...options.dimensions };
  const names = (Object.keys(units) as K[]).filter((name) => metrics[name] !== undefined);
  const values: Record<string, number> = {};
  for (const name of names) values[name] = metrics[name] ?? 0;
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: options.namespace ?? 'DdbCacheSync',
          Dimensions: [Object.keys(allDimensions)],
          Metrics: names.map((name) => ({ Name: name, Unit: units[name] })),
        },
      ],
    },
    ...allDimensions,
    ...values,
  };
}

/** Build the EMF document for one invocation. */
export function emfDocument(metrics: BatchMetrics, adapter: string, options: MetricsOptions, now: number): Record<string, unknown> {
  return emfLine(metrics, UNITS, { Adapter: adapter }, options, now);
}
