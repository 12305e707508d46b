/**
 * One shard's loop: read with GetRecords, buffer, invoke when a batch is ready, and end when a
 * closed shard is drained. One batch is in flight per shard, as with Lambda.
 *
 * @module
 */
import type { GetRecordsCommandOutput, _Record as SdkRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { StreamReadError } from '../errors.js';
import { toLambdaRecord } from '../normalize.js';
import { bufferedForMs, bufferRecords, idlePauseMs, isBatchReady } from './batching.js';
import { deliver } from './checkpoint.js';
import type { RunnerContext, ShardState } from './context.js';
import { nextReadRetryDelayMs, type ReadBackoff } from './retry.js';
import { freshIterator } from './shard-iterator.js';
import { errorName } from './streams-api.js';

/** What one GetRecords round did: `retry` means the call failed and was dealt with. */
type ReadResult = 'records' | 'empty' | 'retry' | 'stopped';

/**
 * Read `shard` until it is drained (then call `onDrained`) or the runner stops. The caller
 * schedules the shard's children from `onDrained`, which keeps this module free of scheduling.
 */
export async function readShard(ctx: RunnerContext, shard: ShardState, onDrained: () => void): Promise<void> {
  const backoff: ReadBackoff = { failures: 0 };
  if (shard.iterator === undefined) {
    const opened = await openIterator(ctx, shard, backoff);
    if (opened === 'stopped') return;
    if (opened === 'trimmed') {
      onDrained();
      return;
    }
  }
  let closed = shard.iterator === undefined;

  while (!ctx.signal.aborted) {
    let readNothing = false;
    if (!closed && shard.buffer.length < ctx.settings.batchSize && shard.iterator !== undefined) {
      const read = await readOnce(ctx, shard, shard.iterator, backoff);
      if (read === 'stopped') return;
      if (read === 'retry') continue;
      readNothing = read === 'empty';
      // A closed shard ends when GetRecords hands back no next iterator.
      closed = shard.iterator === undefined;
    }

    const waitedMs = bufferedForMs(shard);
    if (isBatchReady(ctx.settings, shard, closed, waitedMs)) {
      // stop() may have come while the read was in flight: invoke nothing after it.
      if (ctx.signal.aborted) return;
      await deliver(ctx, shard);
      continue;
    }
    if (closed && shard.buffer.length === 0) {
      onDrained();
      return;
    }
    if (readNothing) await ctx.sleep(idlePauseMs(ctx.settings, shard, waitedMs));
  }
}

/** Get the shard's first iterator, retrying until it comes or the shard turns out to be gone. */
async function openIterator(ctx: RunnerContext, shard: ShardState, backoff: ReadBackoff): Promise<'open' | 'trimmed' | 'stopped'> {
  for (;;) {
    if (ctx.signal.aborted) return 'stopped';
    try {
      shard.iterator = await freshIterator(ctx, shard);
      return 'open';
    } catch (error) {
      if (ctx.signal.aborted) return 'stopped';
      // The shard aged out of the stream: nothing left to read in it.
      if (errorName(error) === 'ResourceNotFoundException' || errorName(error) === 'TrimmedDataAccessException') return 'trimmed';
      ctx.settings.onError(new StreamReadError(`GetShardIterator failed for shard ${shard.id}`, { cause: error }));
      await ctx.sleep(nextReadRetryDelayMs(ctx.settings.pollMs, backoff));
    }
  }
}

/** One GetRecords call: buffer what it returns and move the shard's iterator on. */
async function readOnce(ctx: RunnerContext, shard: ShardState, iterator: string, backoff: ReadBackoff): Promise<ReadResult> {
  const readStarted = ++ctx.tick;
  let output: GetRecordsCommandOutput;
  try {
    output = await ctx.api.getRecords({ ShardIterator: iterator, Limit: Math.min(1000, ctx.settings.batchSize - shard.buffer.length) }, ctx.signal);
    backoff.failures = 0;
  } catch (error) {
    return recoverFromReadError(ctx, shard, backoff, error);
  }
  const records = toLambdaRecords(ctx, shard, output.Records ?? []);
  bufferRecords(shard, records);
  shard.iterator = output.NextShardIterator;
  if (records.length > 0) return 'records';
  if (shard.buffer.length === 0) shard.idleSince = readStarted;
  return 'empty';
}

async function recoverFromReadError(ctx: RunnerContext, shard: ShardState, backoff: ReadBackoff, error: unknown): Promise<ReadResult> {
  if (ctx.signal.aborted) return 'stopped';
  const name = errorName(error);
  if (name === 'ExpiredIteratorException' || name === 'TrimmedDataAccessException') {
    // Iterators live 15 minutes; a long pause (a debugger, a laptop lid) expires them. DynamoDB
    // Local also starts failing GetRecords with TrimmedDataAccessException on an iterator that
    // idled on an empty shard once another table's stream is written. Either way a new iterator
    // after the last record read resumes exactly; with nothing read yet, TRIM_HORIZON re-reads the
    // shard from its start rather than risk skipping records (at least once, as Lambda).
    if (name === 'TrimmedDataAccessException') {
      if (shard.lastSequenceNumber === undefined) shard.position = 'TRIM_HORIZON';
      // A fresh iterator that is trimmed again must not spin: back off from the second time on.
      if (backoff.failures > 0) await ctx.sleep(nextReadRetryDelayMs(ctx.settings.pollMs, backoff));
      else backoff.failures = 1;
    }
    try {
      shard.iterator = await freshIterator(ctx, shard);
    } catch (inner) {
      if (!ctx.signal.aborted) {
        ctx.settings.onError(new StreamReadError(`GetShardIterator failed for shard ${shard.id}`, { cause: inner }));
      }
    }
    return 'retry';
  }
  ctx.settings.onError(new StreamReadError(`GetRecords failed for shard ${shard.id}`, { cause: error }));
  await ctx.sleep(nextReadRetryDelayMs(ctx.settings.pollMs, backoff));
  return 'retry';
}

/** Records that cannot be converted go to `onError`; the sequence number still moves past them. */
function toLambdaRecords(ctx: RunnerContext, shard: ShardState, raw: readonly SdkRecord[]): DynamoDBRecord[] {
  const records: DynamoDBRecord[] = [];
  for (const record of raw) {
    shard.lastSequenceNumber = record.dynamodb?.SequenceNumber ?? shard.lastSequenceNumber;
    try {
      records.push(toLambdaRecord(record, { streamArn: ctx.settings.streamArn, awsRegion: ctx.options.awsRegion }));
    } catch (error) {
      ctx.settings.onError(error);
    }
  }
  return records;
}
