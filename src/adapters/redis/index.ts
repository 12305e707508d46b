/**
 * Redis and Valkey adapter (standalone, Redis Cluster, ElastiCache, ElastiCache Serverless),
 * on ioredis or any client with the same small surface. Import from `ddb-cache-sync/redis`.
 *
 * @module
 */
import type { AnyCacheCommand, CommandResult, FillOptions, LeaseOutcome, VersionedCacheAdapter } from '../../core/commands.js';
import { isCanonicalVersion } from '../../core/versioned.js';
import { CacheCommandError, CacheUnavailableError, ConfigError } from '../../errors.js';
import type { RedisClientLike } from './client.js';
import { type Connection, ownedConnection, userConnection } from './connection.js';
import { commandErrorHint, executeBatch, failure, isReplyError, toError } from './execute.js';
import { assertKnownOptions, type RedisAdapterOptions, resolveUrlOptions } from './options.js';
import { getMany } from './get-many.js';
import { FILL, LEASE, type LuaScript } from './scripts.js';
import { describeKey, describeValue } from '../../core/key-hash.js';

export type { PipelineReply, RedisClientLike, RedisPipelineLike } from './client.js';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type RedisAdapterOptions,
  type RedisClientAdapterOptions,
  type RedisUrlAdapterOptions,
} from './options.js';
export { keySlot } from './slot.js';

/**
 * The Redis adapter: `set`, `delete`, versioned commands and reader leases, each versioned
 * operation a Lua script on its key's node (`capabilities.versioned` is always on).
 */
export interface RedisAdapter extends VersionedCacheAdapter {
  readonly name: 'redis';
  /** See `CacheAdapter.getMany`: pipelined GETs, one pipeline (one per hash slot on a cluster). */
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
}

function connectionFor(options: RedisAdapterOptions): Connection {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(['redisAdapter: pass { client } (an ioredis Redis or Cluster) or { url }']);
  }
  if ('client' in options && options.client !== undefined) {
    if ('url' in options && options.url !== undefined) throw new ConfigError(['redisAdapter: pass either client or url, not both']);
    assertKnownOptions(options);
    const { client } = options;
    if (typeof client.pipeline !== 'function' || typeof client.get !== 'function') {
      throw new ConfigError(['client: must have pipeline() and get(key), e.g. an ioredis Redis or Cluster']);
    }
    return userConnection(client);
  }
  if (typeof options.url !== 'string') throw new ConfigError(['redisAdapter: pass { client } (an ioredis Redis or Cluster) or { url }']);
  assertKnownOptions(options);
  return ownedConnection(resolveUrlOptions(options));
}

/**
 * Run one single-key script and answer its reply: EVALSHA, then EVAL if the node has no copy
 * of the script (NOSCRIPT: new node, restart, SCRIPT FLUSH). One command per pipeline, so on a
 * cluster ioredis follows MOVED/ASK for it. Throws CacheCommandError for an error reply and
 * CacheUnavailableError when no reply came.
 */
async function runScript(client: RedisClientLike, script: LuaScript, key: string, args: readonly string[], adapter: string): Promise<unknown> {
  const name = `${script.name} script`;
  for (const useEval of [false, true]) {
    const pipeline = client.pipeline();
    if (typeof pipeline.evalsha !== 'function' || typeof pipeline.eval !== 'function') {
      throw new CacheCommandError(`${name} on ${describeKey(key)} needs evalsha/eval on the client's pipelines`, { key, command: name });
    }
    if (useEval) pipeline.eval(script.body, 1, key, ...args);
    else pipeline.evalsha(script.sha, 1, key, ...args);
    let replies: Awaited<ReturnType<typeof pipeline.exec>>;
    try {
      replies = await pipeline.exec();
    } catch (error) {
      const cause = toError(error);
      throw new CacheUnavailableError(
        `Redis did not answer ${name} on ${describeKey(key)}: ${cause.message}${commandErrorHint(cause.message)}`,
        { adapter },
        { cause },
      );
    }
    const reply = replies?.[0];
    if (reply === undefined) throw new CacheUnavailableError(`Redis returned no reply to ${name} on ${describeKey(key)}`, { adapter });
    const [error, result] = reply;
    if (!error) return result;
    const cause = toError(error);
    if (!useEval && isReplyError(cause) && cause.message.startsWith('NOSCRIPT')) continue;
    if (isReplyError(cause)) {
      throw new CacheCommandError(
        `Redis refused ${name} on ${describeKey(key)}: ${cause.message}${commandErrorHint(cause.message)}`,
        { key, command: name },
        { cause },
      );
    }
    throw new CacheUnavailableError(
      `Redis did not answer ${name} on ${describeKey(key)}: ${cause.message}${commandErrorHint(cause.message)}`,
      { adapter },
      { cause },
    );
  }
  throw new CacheCommandError(`Redis kept answering NOSCRIPT to ${name} on ${describeKey(key)}`, { key, command: name });
}

const asInteger = (value: unknown): number => (typeof value === 'number' ? value : Number(value));
const asText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined;

/** A duration argument of a script, as whole milliseconds; refuses one that is not positive. */
function scriptDurationMs(name: string, key: string, ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new CacheCommandError(`${name} on ${describeKey(key)}: a positive duration is required, got ${String(ms)}`, { key, command: name });
  }
  return String(Math.max(1, Math.round(ms)));
}

/**
 * Create a Redis/Valkey cache adapter. Each batch goes out as one pipeline per node (one on a
 * standalone server), commands in order; each command's result is reported on its own. It also
 * runs versioned commands and reader leases, each a Lua script on its key's node.
 *
 * Created from a `url`, the adapter builds its ioredis client on first use and reuses it for
 * every later invocation of a warm Lambda environment; `close()` ends it. Created from a
 * `client`, the adapter never loads ioredis itself and `close()` leaves the client open.
 *
 * @example
 * ```ts
 * import { createStreamHandler } from 'ddb-cache-sync';
 * import { redisAdapter } from 'ddb-cache-sync/redis';
 *
 * // Module scope: created once per Lambda environment, connected on the first batch.
 * const adapter = redisAdapter({ url: process.env.REDIS_URL ?? 'rediss://app:secret@my-cache.serverless.use1.cache.amazonaws.com:6379', cluster: true });
 * export const handler = createStreamHandler({ adapter, rules });
 * ```
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const client = new Redis({ host: '127.0.0.1', port: 6379, commandTimeout: 1_000, maxRetriesPerRequest: 1 });
 * const adapter = redisAdapter({ client });
 * ```
 */
export function redisAdapter(options: RedisAdapterOptions): RedisAdapter {
  const connection = connectionFor(options);
  const name = 'redis' as const;
  /** Run a single-key operation; a missing reply drops an owned client, as for batches. */
  const guarded = async <T>(operation: (client: RedisClientLike) => Promise<T>): Promise<T> => {
    try {
      return await operation(await connection.acquire());
    } catch (error) {
      if (error instanceof CacheUnavailableError) connection.noReply();
      throw error;
    }
  };
  return {
    name,
    capabilities: { versioned: true },
    async execute(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]> {
      if (commands.length === 0) return [];
      let client: RedisClientLike;
      try {
        client = await connection.acquire();
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        const cause = toError(error);
        return commands.map((command) => failure(command, cause, false, name));
      }
      const results = await executeBatch(client, commands, name);
      if (results.some((result) => !result.ok && result.error.cause instanceof CacheUnavailableError)) connection.noReply();
      return results;
    },
    get: (key: string): Promise<string | undefined> =>
      guarded(async (client) => {
        try {
          const value = await client.get(key);
          return value ?? undefined;
        } catch (error) {
          const cause = toError(error);
          if (isReplyError(cause)) {
            throw new CacheCommandError(`Redis refused GET ${describeKey(key)}: ${cause.message}`, { key, command: 'GET' }, { cause });
          }
          throw new CacheUnavailableError(`Redis did not answer GET ${describeKey(key)}: ${cause.message}`, { adapter: name }, { cause });
        }
      }),
    getMany: (keys: readonly string[]) => guarded((client) => getMany(client, keys, name)),
    async lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome> {
      const ttl = scriptDurationMs('lease', key, ttlMs);
      const reply = await guarded((client) => runScript(client, LEASE, key, [token, ttl], name));
      if (!Array.isArray(reply))
        throw new CacheCommandError(`unexpected reply to lease on ${describeKey(key)}: ${describeValue(reply)}`, { key, command: 'lease script' });
      return asInteger(reply[0]) === 1 ? { granted: true } : { granted: false, stored: asText(reply[1]) };
    },
    async fill(key: string, token: string, value: string | undefined, fillOptions: FillOptions = {}): Promise<boolean> {
      const { version, ttlSeconds } = fillOptions;
      if (version !== undefined && !isCanonicalVersion(version)) {
        throw new CacheCommandError(`fill on ${describeKey(key)}: version (${describeValue(version)}) is not a canonical decimal integer`, {
          key,
          command: 'fill script',
        });
      }
      const args =
        value === undefined
          ? [token, 'r', '', '', '']
          : [token, 'f', value, ttlSeconds === undefined ? '' : scriptDurationMs('fill', key, ttlSeconds * 1000), version ?? ''];
      return asInteger(await guarded((client) => runScript(client, FILL, key, args, name))) === 1;
    },
    close: () => connection.close(),
  };
}
