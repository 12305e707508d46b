/**
 * One invocation and what it commits: the handler's answer, read as Lambda reads it, moves the
 * shard's checkpoint past the records it accepted; the rest go to {@link retryOrGiveUp}.
 *
 * @module
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { interpretBatchResponse, type BatchOutcome } from '../batch-response.js';
import { consume, nextBatch } from './batching.js';
import type { RunnerContext, ShardState } from './context.js';
import { retryOrGiveUp } from './retry.js';

/** Invoke the handler with the head of the shard's buffer and act on its answer. */
export async function deliver(ctx: RunnerContext, shard: ShardState): Promise<void> {
  const batch = nextBatch(ctx.settings, shard);
  const outcome = await invoke(ctx, shard, batch);
  if (outcome.kind === 'success') {
    accept(ctx, shard, batch.length);
    return;
  }
  const checkpoint = outcome.kind === 'partial' ? outcome.checkpoint : 0;
  if (checkpoint > 0) {
    accept(ctx, shard, checkpoint);
    // The records before the checkpoint are done; the retry count starts again for the rest.
    shard.attempts = 1;
  }
  await retryOrGiveUp(ctx, shard, batch.slice(checkpoint), outcome);
}

async function invoke(ctx: RunnerContext, shard: ShardState, batch: DynamoDBRecord[]): Promise<BatchOutcome> {
  ctx.stats.invocations++;
  if (shard.attempts > 0) ctx.stats.retries++;
  shard.attempts++;
  try {
    return interpretBatchResponse(batch, await ctx.options.handler({ Records: batch }));
  } catch (error) {
    return {
      kind: 'failure',
      reason: `the handler threw: ${error instanceof Error ? error.message : String(error)}`,
      error,
    };
  }
}

function accept(ctx: RunnerContext, shard: ShardState, count: number): void {
  consume(shard, count);
  ctx.stats.recordsDelivered += count;
}
