/**
 * Redis and Valkey adapter (standalone, Redis Cluster, ElastiCache, ElastiCache Serverless),
 * on ioredis or any client with the same small surface. Import from `ddb-cache-sync/redis`.
 *
 * @module
 */
import type { ConnectionOptions } from 'node:tls';
import type { AnyCacheCommand, CommandResult, FillOptions, LeaseOutcome, VersionedCacheAdapter } from '../../core/commands.js';
import { isCanonicalVersion } from '../../core/versioned.js';
import { CacheCommandError, CacheUnavailableError, ConfigError } from '../../errors.js';
import type { RedisClientLike } from './client.js';
import { type Connection, ownedConnection, type UrlSettings, userConnection } from './connection.js';
import { executeBatch, failure, hintFor, isReplyError, toError } from './execute.js';
import { FILL, LEASE, type LuaScript } from './scripts.js';

export type { PipelineReply, RedisClientLike, RedisPipelineLike } from './client.js';
export { keySlot } from './slot.js';

/** Default time to establish a connection (TCP, TLS, AUTH, ready check) when connecting by url. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/** Default time to wait for each command's reply when connecting by url. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1_000;

/** Use a client you built and own (an ioredis `Redis` or `Cluster`, or a compatible client). */
export interface RedisClientAdapterOptions {
  /** Left open by `close()`: its lifecycle, options and timeouts are yours. */
  readonly client: RedisClientLike;
  readonly url?: never;
}

/** Let the adapter create (lazily, once) and own an ioredis client. */
export interface RedisUrlAdapterOptions {
  /**
   * `redis://[user[:password]@]host[:port][/db]`, or `rediss://` for TLS (`valkey://` and
   * `valkeys://` are accepted too). User and password are percent-decoded.
   */
  readonly url: string;
  readonly client?: never;
  /** Connect as a Redis Cluster client using `url` as the seed node. Default `false`. */
  readonly cluster?: boolean;
  /**
   * TLS options (`ca`, `servername`, `cert`/`key`, ...) passed to Node's `tls.connect`. Giving
   * `tls` turns TLS on even with a `redis://` url; nothing turns it off with `rediss://`. The
   * server certificate is always verified: `rejectUnauthorized: false` is refused (give `ca`).
   */
  readonly tls?: ConnectionOptions;
  /** Time to become ready (connect, TLS, AUTH, ready check). Default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  readonly connectTimeoutMs?: number;
  /** Time to wait for each command's reply. Default {@link DEFAULT_COMMAND_TIMEOUT_MS}. */
  readonly commandTimeoutMs?: number;
  /**
   * Extra ioredis options, applied over the adapter's defaults: `RedisOptions`, or
   * `ClusterOptions` with `cluster: true` (its `redisOptions` merge into the per-node defaults).
   * `tls` and `Connector` are refused here: TLS comes from the url scheme and the `tls` option.
   */
  readonly clientOptions?: Readonly<Record<string, unknown>>;
}

/** Options for {@link redisAdapter}: either your own client or a url. */
export type RedisAdapterOptions = RedisClientAdapterOptions | RedisUrlAdapterOptions;

const SCHEMES: Readonly<Record<string, boolean>> = { 'redis:': false, 'rediss:': true, 'valkey:': false, 'valkeys:': true };

function positive(name: string, value: number | undefined, fallback: number, issues: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    issues.push(`${name}: must be a positive number of milliseconds, got ${String(value)}`);
    return fallback;
  }
  return value;
}

function decode(part: string): string | undefined {
  if (part === '') return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** ioredis options the adapter sets itself, from the url and `tls`: not accepted in clientOptions. */
const OWNED_CLIENT_OPTIONS: Readonly<Record<string, string>> = {
  tls: 'TLS is decided by the url scheme (rediss://) and the adapter option tls; move these options to tls',
  Connector: 'the adapter opens its own sockets (it resets them when a batch gets no reply); remove it, or build the client yourself and pass { client }',
};

/**
 * Refuse `tls` (even `tls: undefined`, which ioredis reads as "no TLS") and `Connector` in
 * clientOptions and in its `redisOptions`: spread over the adapter's options they would turn a
 * rediss:// url into plaintext without a word.
 */
function checkClientOptions(clientOptions: Readonly<Record<string, unknown>>, issues: string[]): void {
  const nodeOptions = clientOptions['redisOptions'];
  const places: [string, unknown][] = [['clientOptions', clientOptions], ['clientOptions.redisOptions', nodeOptions]];
  for (const [path, value] of places) {
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, why] of Object.entries(OWNED_CLIENT_OPTIONS)) {
      if (Object.hasOwn(value, key)) issues.push(`${path}.${key}: not accepted: ${why}`);
    }
  }
}

/**
 * TLS options for the connection: the `tls` option, or `{}` (Node's defaults: verify against
 * the trusted CAs) when the url is rediss://. Certificate verification cannot be switched off.
 */
function resolveTls(tls: unknown, secure: boolean, issues: string[]): ConnectionOptions | undefined {
  if (tls === undefined) return secure ? {} : undefined;
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    issues.push(
      `tls: must be an object of tls.connect options (e.g. { ca }), got ${tls === null ? 'null' : typeof tls}; TLS is on with a rediss:// url and cannot be turned off by tls`,
    );
    return undefined;
  }
  const options = tls as ConnectionOptions;
  if (Object.hasOwn(options, 'rejectUnauthorized') && options.rejectUnauthorized !== true) {
    issues.push(
      'tls.rejectUnauthorized: certificate verification cannot be switched off (anyone on the network path could read and change the cache); give the server\'s CA as tls.ca, and tls.servername when the certificate names another host (e.g. through a tunnel)',
    );
  }
  return options;
}

/** Validate url options into settings; throws {@link ConfigError} listing every problem. */
function resolveUrlOptions(options: RedisUrlAdapterOptions): UrlSettings {
  const issues: string[] = [];
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, issues);
  const commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS, issues);
  const cluster = options.cluster === true;
  let url: URL | undefined;
  try {
    url = new URL(options.url);
  } catch {
    issues.push('url: not a valid URL; expected redis://host:6379 or rediss://user:password@host:6379');
  }
  let secure = false;
  let db = 0;
  if (url) {
    const scheme = SCHEMES[url.protocol];
    if (scheme === undefined) issues.push(`url: scheme ${url.protocol} is not supported; use redis:// or rediss:// (TLS)`);
    else secure = scheme;
    if (url.hostname === '') issues.push('url: has no host');
    const path = url.pathname.replace(/^\//, '');
    if (path !== '') {
      db = Number(path);
      if (!Number.isInteger(db) || db < 0) issues.push(`url: database "${path}" is not a non-negative integer`);
      else if (cluster && db !== 0) issues.push('url: Redis Cluster only has database 0; remove the /db path or set cluster: false');
    }
  }
  if (options.clientOptions !== undefined && (typeof options.clientOptions !== 'object' || options.clientOptions === null)) {
    issues.push('clientOptions: must be an object of ioredis options');
  } else if (options.clientOptions !== undefined) {
    checkClientOptions(options.clientOptions, issues);
  }
  const tls = resolveTls(options.tls, secure, issues);
  if (issues.length > 0 || url === undefined) throw new ConfigError(issues);
  return {
    // WHATWG URL keeps IPv6 literals in brackets; sockets want them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    username: decode(url.username),
    password: decode(url.password),
    db,
    tls,
    cluster,
    connectTimeoutMs,
    commandTimeoutMs,
    clientOptions: options.clientOptions ?? {},
  };
}

function connectionFor(options: RedisAdapterOptions): Connection {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(['redisAdapter: pass { client } (an ioredis Redis or Cluster) or { url }']);
  }
  if ('client' in options && options.client !== undefined) {
    if ('url' in options && options.url !== undefined) throw new ConfigError(['redisAdapter: pass either client or url, not both']);
    const { client } = options;
    if (typeof client.pipeline !== 'function' || typeof client.get !== 'function') {
      throw new ConfigError(['client: must have pipeline() and get(key), e.g. an ioredis Redis or Cluster']);
    }
    return userConnection(client);
  }
  if (typeof options.url !== 'string') throw new ConfigError(['redisAdapter: pass { client } (an ioredis Redis or Cluster) or { url }']);
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
      throw new CacheCommandError(`${name} on ${JSON.stringify(key)} needs evalsha/eval on the client's pipelines`, { key, command: name });
    }
    if (useEval) pipeline.eval(script.body, 1, key, ...args);
    else pipeline.evalsha(script.sha, 1, key, ...args);
    let replies: Awaited<ReturnType<typeof pipeline.exec>>;
    try {
      replies = await pipeline.exec();
    } catch (error) {
      const cause = toError(error);
      throw new CacheUnavailableError(`Redis did not answer ${name} on ${JSON.stringify(key)}: ${cause.message}${hintFor(cause.message)}`, { adapter }, { cause });
    }
    const reply = replies?.[0];
    if (reply === undefined) throw new CacheUnavailableError(`Redis returned no reply to ${name} on ${JSON.stringify(key)}`, { adapter });
    const [error, result] = reply;
    if (!error) return result;
    const cause = toError(error);
    if (!useEval && isReplyError(cause) && cause.message.startsWith('NOSCRIPT')) continue;
    if (isReplyError(cause)) {
      throw new CacheCommandError(`Redis refused ${name} on ${JSON.stringify(key)}: ${cause.message}${hintFor(cause.message)}`, { key, command: name }, { cause });
    }
    throw new CacheUnavailableError(`Redis did not answer ${name} on ${JSON.stringify(key)}: ${cause.message}${hintFor(cause.message)}`, { adapter }, { cause });
  }
  throw new CacheCommandError(`Redis kept answering NOSCRIPT to ${name} on ${JSON.stringify(key)}`, { key, command: name });
}

const asInteger = (value: unknown): number => (typeof value === 'number' ? value : Number(value));
const asText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined;

function positiveMs(name: string, key: string, ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new CacheCommandError(`${name} on ${JSON.stringify(key)}: a positive duration is required, got ${String(ms)}`, { key, command: name });
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
export function redisAdapter(options: RedisAdapterOptions): VersionedCacheAdapter {
  const connection = connectionFor(options);
  const name = 'redis';
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
            throw new CacheCommandError(`Redis refused GET ${JSON.stringify(key)}: ${cause.message}`, { key, command: 'GET' }, { cause });
          }
          throw new CacheUnavailableError(`Redis did not answer GET ${JSON.stringify(key)}: ${cause.message}`, { adapter: name }, { cause });
        }
      }),
    async lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome> {
      const ttl = positiveMs('lease', key, ttlMs);
      const reply = await guarded((client) => runScript(client, LEASE, key, [token, ttl], name));
      if (!Array.isArray(reply)) throw new CacheCommandError(`unexpected reply to lease on ${JSON.stringify(key)}: ${JSON.stringify(reply)}`, { key, command: 'lease script' });
      return asInteger(reply[0]) === 1 ? { granted: true } : { granted: false, stored: asText(reply[1]) };
    },
    async fill(key: string, token: string, value: string | undefined, fillOptions: FillOptions = {}): Promise<boolean> {
      const { version, ttlSeconds } = fillOptions;
      if (version !== undefined && !isCanonicalVersion(version)) {
        throw new CacheCommandError(`fill on ${JSON.stringify(key)}: version ${JSON.stringify(version)} is not a canonical decimal integer`, { key, command: 'fill script' });
      }
      const args =
        value === undefined
          ? [token, 'r', '', '', '']
          : [token, 'f', value, ttlSeconds === undefined ? '' : positiveMs('fill', key, ttlSeconds * 1000), version ?? ''];
      return asInteger(await guarded((client) => runScript(client, FILL, key, args, name))) === 1;
    },
    close: () => connection.close(),
  };
}
