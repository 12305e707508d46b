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

const UNITS: Record<keyof BatchMetrics, 'Count' | 'Milliseconds'> = {
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

/** Build the EMF document for one invocation. */
export function emfDocument(metrics: BatchMetrics, adapter: string, options: MetricsOptions, now: number): Record<string, unknown> {
  const dimensions: Record<string, string> = { Adapter: adapter, ...options.dimensions };
  const names = (Object.keys(UNITS) as (keyof BatchMetrics)[]).filter((name) => metrics[name] !== undefined);
  const values: Record<string, number> = {};
  for (const name of names) values[name] = metrics[name] ?? 0;
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: options.namespace ?? 'DdbCacheSync',
          Dimensions: [Object.keys(dimensions)],
          Metrics: names.map((name) => ({ Name: name, Unit: UNITS[name] })),
        },
      ],
    },
    ...dimensions,
    ...values,
  };
}
