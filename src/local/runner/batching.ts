/**
 * A shard's buffer: records read but not yet accepted, and when they make a batch (full, the
 * batching window over, the shard closed, or a retry due).
 *
 * @module
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { ShardState } from './context.js';
import type { RunnerSettings } from './options.js';

export function bufferRecords(shard: ShardState, records: readonly DynamoDBRecord[]): void {
  if (records.length === 0) return;
  shard.bufferedSince ??= Date.now();
  for (const record of records) shard.buffer.push(record);
}

/** How long the oldest buffered record has waited, in ms (0 with nothing buffered). */
export function bufferedForMs(shard: ShardState): number {
  return shard.bufferedSince === undefined ? 0 : Date.now() - shard.bufferedSince;
}

export function isBatchReady(settings: RunnerSettings, shard: ShardState, closed: boolean, waitedMs: number): boolean {
  const { batchSize, windowMs } = settings;
  return (
    shard.buffer.length >= batchSize ||
    // A retry goes out at once, like Lambda's: the batching window applies to new records only.
    (shard.buffer.length > 0 && (closed || windowMs === 0 || waitedMs >= windowMs || shard.attempts > 0))
  );
}

/** The pause after a read found nothing new: the poll interval, or less if the window ends sooner. */
export function idlePauseMs(settings: RunnerSettings, shard: ShardState, waitedMs: number): number {
  const untilWindow = shard.buffer.length > 0 ? Math.max(1, settings.windowMs - waitedMs) : settings.pollMs;
  return Math.min(settings.pollMs, untilWindow);
}

export function nextBatch(settings: RunnerSettings, shard: ShardState): DynamoDBRecord[] {
  return shard.buffer.slice(0, settings.batchSize);
}

/** Drop `count` records from the head of the buffer: they are done (accepted or given up). */
export function consume(shard: ShardState, count: number): void {
  shard.buffer.splice(0, count);
  shard.attempts = 0;
  if (shard.buffer.length === 0) shard.bufferedSince = undefined;
}
