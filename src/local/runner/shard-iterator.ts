/**
 * Shard iterators: where a shard's reading begins, and where it resumes after the last record
 * read (an expired iterator must neither lose nor repeat records).
 *
 * @module
 */
import type { GetShardIteratorCommandInput } from '@aws-sdk/client-dynamodb-streams';
import type { RunnerContext, ShardState } from './context.js';

export async function freshIterator(ctx: RunnerContext, shard: ShardState): Promise<string | undefined> {
  const { streamArn } = ctx.settings;
  const input: GetShardIteratorCommandInput =
    shard.lastSequenceNumber !== undefined
      ? {
          StreamArn: streamArn,
          ShardId: shard.id,
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          SequenceNumber: shard.lastSequenceNumber,
        }
      : { StreamArn: streamArn, ShardId: shard.id, ShardIteratorType: shard.position };
  return (await ctx.api.getShardIterator(input, ctx.signal)).ShardIterator;
}
