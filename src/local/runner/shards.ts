/**
 * Shard discovery and scheduling: find the stream's shards (every DescribeStream page), pin
 * `LATEST` at start, and start each shard only once its parent is drained, so a key's changes
 * are delivered in order across a shard split.
 *
 * @module
 */
import type { Shard } from '@aws-sdk/client-dynamodb-streams';
import { StreamReadError } from '../errors.js';
import type { RunnerContext, ShardState } from './context.js';
import { readShard } from './read-shard.js';
import { freshIterator } from './shard-iterator.js';

/** Add the shards not seen yet; `initial` is the discovery `start()` makes. */
export async function discover(ctx: RunnerContext, initial: boolean): Promise<void> {
  const startedAt = ++ctx.tick;
  const latest = initial && ctx.options.startingPosition === 'LATEST';
  for (const shard of await describeAll(ctx)) {
    const id = shard.ShardId;
    if (id === undefined || ctx.shards.has(id)) continue;
    ctx.shards.set(id, newShardState(id, shard, latest));
    ctx.stats.shards++;
  }
  if (latest) {
    // Pin LATEST now, so whatever is written after start() resolves is delivered.
    await Promise.all(
      [...ctx.shards.values()]
        .filter((shard) => shard.status === 'waiting')
        .map(async (shard) => {
          shard.iterator = await freshIterator(ctx, shard);
        }),
    );
  }
  ctx.discoveredSince = startedAt;
  schedule(ctx);
}

function newShardState(id: string, shard: Shard, latest: boolean): ShardState {
  const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
  return {
    id,
    parentId: shard.ParentShardId,
    // With LATEST, shards already closed at start hold only old records: skip them.
    status: latest && closed ? 'done' : 'waiting',
    iterator: undefined,
    position: latest ? 'LATEST' : 'TRIM_HORIZON',
    buffer: [],
    bufferedSince: undefined,
    lastSequenceNumber: undefined,
    idleSince: -1,
    attempts: 0,
    loop: undefined,
  };
}

async function describeAll(ctx: RunnerContext): Promise<Shard[]> {
  const all: Shard[] = [];
  let exclusiveStartShardId: string | undefined;
  do {
    const page = await ctx.api.describeStream({ StreamArn: ctx.settings.streamArn, ExclusiveStartShardId: exclusiveStartShardId }, ctx.signal);
    all.push(...(page.StreamDescription?.Shards ?? []));
    exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
  } while (exclusiveStartShardId !== undefined);
  return all;
}

/** Start every waiting shard whose parent is drained (or unknown: trimmed from the stream). */
export function schedule(ctx: RunnerContext): void {
  if (ctx.state !== 'running' && ctx.state !== 'starting') return;
  for (const shard of ctx.shards.values()) {
    if (shard.status !== 'waiting') continue;
    const parent = shard.parentId === undefined ? undefined : ctx.shards.get(shard.parentId);
    if (parent !== undefined && parent.status !== 'done') continue;
    shard.status = 'reading';
    shard.loop = readShard(ctx, shard, () => finish(ctx, shard)).catch((error: unknown) => {
      if (!ctx.signal.aborted) ctx.settings.onError(error);
    });
  }
}

function finish(ctx: RunnerContext, shard: ShardState): void {
  shard.status = 'done';
  shard.iterator = undefined;
  // Children of this shard may start now; no need to wait for the next discovery.
  schedule(ctx);
}

/** Look for new shards (a split, a new stream generation) every `shardDiscoveryIntervalMs`. */
export async function discoverForever(ctx: RunnerContext): Promise<void> {
  while (!ctx.signal.aborted) {
    await ctx.sleep(ctx.settings.discoveryMs);
    if (ctx.signal.aborted) return;
    await discoverReportingErrors(ctx);
  }
}

/** A later discovery that fails is reported and tried again, not fatal. */
export async function discoverReportingErrors(ctx: RunnerContext): Promise<void> {
  try {
    await discover(ctx, false);
  } catch (error) {
    if (!ctx.signal.aborted) {
      ctx.settings.onError(new StreamReadError(`DescribeStream failed for ${ctx.settings.streamArn}`, { cause: error }));
    }
  }
}
