/**
 * The smallest client surface the Redis adapter calls. ioredis 5 and 6 `Redis` and `Cluster`
 * instances satisfy it structurally, and so can any compatible client or a plain test object.
 *
 * @module
 */
import type { AbstractConnector, Cluster, Redis } from 'ioredis';
import { loadPeer } from '../peer.js';

/** One reply slot of a pipeline: `[error, result]`, as ioredis returns them. */
export type PipelineReply = [error: Error | null, result: unknown];

/** A pipeline: commands queue locally and go out together on `exec()`. */
export interface RedisPipelineLike {
  set(key: string, value: string): unknown;
  set(key: string, value: string, expiryMode: 'EX', seconds: number): unknown;
  /**
   * DEL of one or more keys (the adapter merges plain deletes of a batch; on a cluster, keys of
   * one slot). Every key must be sent: the adapter reports each of them deleted on the reply.
   */
  del(...keys: string[]): unknown;
  /**
   * EVALSHA and EVAL, for versioned commands and reader leases (Lua scripts). Optional: a
   * client without them still runs `set` and `delete`; versioned commands then fail.
   */
  evalsha?(sha: string, numKeys: number, ...keysAndArgs: string[]): unknown;
  eval?(script: string, numKeys: number, ...keysAndArgs: string[]): unknown;
  /**
   * GET, for `getMany` (pipelined GETs need no ACL rule beyond `+get`, unlike MGET). Optional:
   * without it `getMany` calls the client's `get` per key, concurrently.
   */
  get?(key: string): unknown;
  /** SCRIPT LOAD, sent ahead of EVALSHA in the same pipeline so the node has the script. */
  script?(subcommand: 'LOAD', script: string): unknown;
  /**
   * Send the queued commands and resolve to one reply per command, in order. ioredis resolves
   * `null` only for an aborted transaction; the adapter treats it as every command failed.
   */
  exec(): Promise<PipelineReply[] | null>;
}

/**
 * What the adapter needs from a Redis or Valkey client.
 *
 * For Redis Cluster the adapter also reads `isCluster` and `slots` (ioredis `Cluster` has both)
 * to send one pipeline per node; a client without them is treated as a single node.
 */
export interface RedisClientLike {
  /** Start a pipeline. On a cluster client, all keys of one pipeline must live on one node. */
  pipeline(): RedisPipelineLike;
  /** GET: the stored string, or `null` when the key is absent. */
  get(key: string): Promise<string | null>;
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  /**
   * ioredis `Cluster` slot map: index = hash slot, value = node keys (`host:port`) serving it,
   * primary first. Empty until the cluster client has connected.
   */
  readonly slots?: ReadonlyArray<ReadonlyArray<string> | undefined>;
}

/** The parts of ioredis the adapter builds clients from. */
export interface Ioredis {
  readonly Redis: typeof Redis;
  readonly Cluster: typeof Cluster;
  readonly AbstractConnector: typeof AbstractConnector;
}

/**
 * Load ioredis for `url`: by dynamic import, so an adapter around the user's client never loads
 * it. Throws a `ClientLoadError` naming the actual cause (not installed, or a bundle that cannot
 * serve ioredis's `require` calls).
 */
export async function loadIoredis(): Promise<Ioredis> {
  return loadPeer('ioredis', 'redisAdapter.url', async () => {
    // ioredis 5 and 6 both export Redis, Cluster and AbstractConnector by name.
    const { Redis, Cluster, AbstractConnector } = await import('ioredis');
    return { Redis, Cluster, AbstractConnector };
  });
}
