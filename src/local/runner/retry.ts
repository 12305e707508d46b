/**
 * Retries, both kinds: a stream call that failed (retried after a growing pause), and a batch
 * the handler failed (retried after a growing pause until `maximumRetryAttempts`, then handed to
 * `onFailure` and skipped, like Lambda's on-failure destination).
 *
 * @module
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { BatchOutcome } from '../batch-response.js';
import { consume } from './batching.js';
import type { RunnerContext, ShardState } from './context.js';
import type { FailedBatch } from './types.js';

const MAX_RETRY_DELAY_MS = 5000;

/** Consecutive failed stream calls for one shard; a successful GetRecords resets it. */
export interface ReadBackoff {
  failures: number;
}

/** Pause after another failed stream call: doubles from `pollIntervalMs`, at most 5 s. */
export function nextReadRetryDelayMs(pollMs: number, backoff: ReadBackoff): number {
  return Math.min(MAX_RETRY_DELAY_MS, pollMs * 2 ** Math.min(++backoff.failures, 6));
}

/** A handler outcome that leaves records to retry. */
export type FailingOutcome = Exclude<BatchOutcome, { kind: 'success' }>;

/**
 * After a failed invocation: give the `failed` records up if the retries are used up, otherwise
 * wait before the shard's loop invokes again. `shard.attempts` counts the invocation just made.
 */
export async function retryOrGiveUp(ctx: RunnerContext, shard: ShardState, failed: readonly DynamoDBRecord[], outcome: FailingOutcome): Promise<void> {
  const { maxRetries, retryDelayMs } = ctx.settings;
  const retriesUsed = shard.attempts - 1;
  if (maxRetries >= 0 && retriesUsed >= maxRetries) {
    await giveUp(ctx, shard, failed, outcome);
    return;
  }
  await ctx.sleep(Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** Math.max(0, retriesUsed)));
}

async function giveUp(ctx: RunnerContext, shard: ShardState, failed: readonly DynamoDBRecord[], outcome: FailingOutcome): Promise<void> {
  const failure: FailedBatch = {
    streamArn: ctx.settings.streamArn,
    shardId: shard.id,
    records: failed,
    attempts: shard.attempts,
    reason: outcome.kind === 'partial' ? `the handler reported itemIdentifier ${outcome.itemIdentifier} as failed` : outcome.reason,
    ...(outcome.kind === 'failure' && outcome.error !== undefined ? { error: outcome.error } : {}),
  };
  ctx.stats.failedBatches++;
  ctx.stats.recordsFailed += failed.length;
  consume(shard, failed.length);
  try {
    await ctx.options.onFailure?.(failure);
  } catch (error) {
    ctx.settings.onError(error);
  }
}
