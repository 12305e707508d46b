/**
 * `getMany` for the Redis adapter: the raw stored strings of several keys in one round trip per
 * hash slot, for the read-through plugin's BatchGetItem. Pipelined GETs rather than MGET, so the
 * least-privilege ACL (`+get`) is enough.
 *
 * @module
 */
import { describeKey } from '../../core/key-hash.js';
import { CacheCommandError, CacheUnavailableError } from '../../errors.js';
import type { PipelineReply, RedisClientLike } from './client.js';
import { groupBySlot, isReplyError, toError } from './execute.js';

const asText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined;

function unanswered(cause: Error, key: string, adapter: string): Error {
  if (isReplyError(cause)) return new CacheCommandError(`Redis refused GET ${describeKey(key)}: ${cause.message}`, { key, command: 'GET' }, { cause });
  return new CacheUnavailableError(`Redis did not answer GET ${describeKey(key)}: ${cause.message}`, { adapter }, { cause });
}

/** One pipeline of GETs; on a cluster all `keys` share a slot, so ioredis can follow a redirect for it. */
async function pipelinedGets(client: RedisClientLike, keys: readonly string[], adapter: string): Promise<(string | undefined)[]> {
  const pipeline = client.pipeline();
  if (typeof pipeline.get !== 'function') {
    // A client whose pipelines have no GET: one GET per key, all sent before any answer.
    return Promise.all(
      keys.map(async (key) => {
        try {
          return (await client.get(key)) ?? undefined;
        } catch (error) {
          throw unanswered(toError(error), key, adapter);
        }
      }),
    );
  }
  for (const key of keys) pipeline.get(key);
  let replies: PipelineReply[] | null;
  try {
    replies = await pipeline.exec();
  } catch (error) {
    throw unanswered(toError(error), keys[0] ?? '', adapter);
  }
  return keys.map((key, i) => {
    const reply = replies?.[i];
    if (reply === undefined) throw new CacheUnavailableError(`Redis returned no reply to GET ${describeKey(key)}`, { adapter });
    const [error, value] = reply;
    if (error) throw unanswered(toError(error), key, adapter);
    return asText(value);
  });
}

/**
 * The stored strings of `keys`, in order. Standalone: one pipeline. Cluster: one pipeline per
 * hash slot, all sent concurrently. Throws CacheUnavailableError when any GET gets no answer,
 * CacheCommandError when one is refused: never a partial answer.
 */
export async function getMany(client: RedisClientLike, keys: readonly string[], adapter: string): Promise<(string | undefined)[]> {
  if (keys.length === 0) return [];
  if (client.isCluster !== true) return pipelinedGets(client, keys, adapter);
  // Grouped as the batch path groups its resends: a pipeline per slot, a key ioredis would route
  // elsewhere than the server on its own (it follows the MOVED reply for it).
  const groups = groupBySlot(
    keys.map((key) => ({ key })),
    keys.map((_, index) => index),
  );
  const out = new Array<string | undefined>(keys.length).fill(undefined);
  await Promise.all(
    groups.map(async (positions) => {
      const values = await pipelinedGets(
        client,
        positions.map((i) => keys[i] ?? ''),
        adapter,
      );
      for (const [j, position] of positions.entries()) out[position] = values[j];
    }),
  );
  return out;
}
