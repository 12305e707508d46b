/**
 * Read-side counters and their EMF document, in the handler's namespace and dimensions.
 *
 * @module
 */
import type { MetricsOptions } from '../lambda/config.js';
import { emfLine, type MetricUnit } from '../lambda/metrics.js';

/** Counts since the last {@link ReadThroughPlugin.flushMetrics}. */
export interface ReadMetrics {
  /** GetItems (and BatchGetItem keys) answered from the cache. */
  ReadHits: number;
  /** Covered GetItems (and BatchGetItem keys) answered by the table (the cache had no value, or failed). */
  ReadMisses: number;
  /** Of those, the ones sent to the table because the cache failed or timed out. */
  ReadFallbacks: number;
  /** GetItems (and BatchGetItem keys) the plugin did not cover (see the decision table), passed through untouched. */
  ReadPassThroughs: number;
}

/** Zeroed counters. */
export const emptyReadMetrics = (): ReadMetrics => ({ ReadHits: 0, ReadMisses: 0, ReadFallbacks: 0, ReadPassThroughs: 0 });

const UNITS: Record<keyof ReadMetrics, MetricUnit> = { ReadHits: 'Count', ReadMisses: 'Count', ReadFallbacks: 'Count', ReadPassThroughs: 'Count' };

/** The EMF document for one flush. */
export function readEmfDocument(metrics: ReadMetrics, adapter: string, options: MetricsOptions, now: number): Record<string, unknown> {
  return emfLine(metrics, UNITS, { Adapter: adapter }, options, now);
}
