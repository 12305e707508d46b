/**
 * Options of the Memcached adapter: their types, defaults, validation (once, in the factory),
 * and the settings the rest of the adapter reads. Durations are milliseconds (`...Ms`), TTLs
 * seconds (`...TtlSeconds`); memjs's own second-based options are converted in `client.ts`.
 *
 * @module
 */
import type { ConnectionOptions } from 'node:tls';
import * as z from 'zod/mini';
import { strictOptionIssues } from '../../core/strict-options.js';
import { ConfigError } from '../../errors.js';
import { checkPositive, checkPositiveWhole } from '../option-checks.js';
import type { MemcachedClient } from './client.js';
import { DEFAULT_FLOOR_TTL_SECONDS } from './versioned.js';

/** Options shared by both ways of building the adapter. */
interface CommonOptions {
  /**
   * Values longer than this many UTF-8 bytes are not sent: the command fails with
   * {@link MemcachedValueTooLargeError} and the adapter deletes the key instead, so no stale value
   * stays behind. Default 1,048,064 (1 MiB - 512), which fits any key of up to 250 bytes within
   * Memcached's default 1 MiB item size (an item holds value + key + about 60 bytes of header).
   * Values under this but over the server's `-I` are refused by the server with the same error.
   */
  readonly maxValueBytes?: number;
  /** Clock in milliseconds for converting TTLs over 30 days to absolute times. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Milliseconds `execute` and `get` wait for answers at most. Commands still unanswered then
   * are reported failed (outcome unknown), and a client the adapter created is replaced. A
   * safety net under the client's own timeouts: memjs never settles requests that were
   * outstanding on a connection the server closed cleanly (checked with memjs 1.3.2). Default:
   * with `servers`, `connectTimeoutMs + timeoutMs + 1000` (3000); with `client`, 5000.
   */
  readonly deadlineMs?: number;
  /**
   * Versioned strategy and reader leases only. Memcached cannot report a key's remaining TTL, so
   * a lease taken on a tombstone, and a tombstone restored when such a lease is given back, live
   * this many seconds. Use at least the longest `tombstoneTtlSeconds` of your rules; a longer
   * life only refuses more old writes. Default 90,000 (25 h).
   */
  readonly tombstoneTtlSeconds?: number;
}

/** Build the adapter on a client you created and own (left open by `close()`). */
export interface MemcachedClientOptions extends CommonOptions {
  /** A memjs `Client` (create it with `expires: 0`, the default) or any {@link MemcachedClient}. */
  readonly client: MemcachedClient;
  readonly servers?: never;
}

/** Let the adapter create a memjs client on first use (closed by `close()`). */
export interface MemcachedServersOptions extends CommonOptions {
  /**
   * Comma-separated `host:port` list, e.g. the node endpoints of an ElastiCache cluster, in the
   * same order every reader uses (memjs picks a key's server by hash modulo this list).
   */
  readonly servers: string;
  readonly client?: never;
  /** SASL user name (Memcached servers with SASL; ElastiCache Memcached has none). */
  readonly username?: string;
  /** SASL password. */
  readonly password?: string;
  /**
   * memjs `timeout`, in milliseconds: how long a request may wait for its answer, counted from
   * when it is written; when one is late, memjs fails every command outstanding on that server
   * and reconnects. Default 1000: far below any sensible Lambda timeout, far above an in-VPC
   * round trip.
   */
  readonly timeoutMs?: number;
  /** memjs `conntimeout`, in milliseconds: wait for a connection (DNS included; TLS too with `tls`). Default 1000. */
  readonly connectTimeoutMs?: number;
  /**
   * memjs `failover`: after a server fails, send its keys to the next server for
   * `failoverTimeMs`. Default `false`: when the server returns, keys move back and may find
   * the value written there before the failure, which the stream never corrected (stale reads).
   */
  readonly failover?: boolean;
  /** memjs `failoverTime`, in milliseconds: how long a failed server is skipped when `failover` is on. Default 60,000. */
  readonly failoverTimeMs?: number;
  /** TCP keep-alive on the connections. Default `false`. */
  readonly keepAlive?: boolean;
  /**
   * Connect with TLS (ElastiCache Memcached with in-transit encryption). memjs has no TLS, so the
   * adapter opens one loopback listener per server inside the function and carries each memjs
   * connection over TLS to the server. `true` uses Node's default CAs and checks the server name;
   * an object is passed to `tls.connect` (e.g. `{ ca }` for a private CA). Default: plain TCP.
   * Not for ElastiCache Serverless: it refuses the binary protocol that memjs speaks.
   */
  readonly tls?: boolean | ConnectionOptions;
}

/** Options for {@link memcachedAdapter}: either your `client` or a `servers` list. */
export type MemcachedAdapterOptions = MemcachedClientOptions | MemcachedServersOptions;

/**
 * Default `maxValueBytes`: 1 MiB - 512 = 1,048,064 bytes, the largest value that fits Memcached's
 * default 1 MiB item size under any key (measured on memcached 1.6: item = value + key + ~60 bytes).
 *
 * @example
 * ```ts
 * // A cluster started with -I 2m (max_item_size 2 MiB):
 * memcachedAdapter({ servers, maxValueBytes: 2 * DEFAULT_MAX_VALUE_BYTES });
 * ```
 */
export const DEFAULT_MAX_VALUE_BYTES = 1_048_576 - 512;
export const DEFAULT_TIMEOUT_MS = 1_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
export const DEFAULT_FAILOVER_TIME_MS = 60_000;
const DEFAULT_CLIENT_DEADLINE_MS = 5_000;

/** What the adapter reads from its options, defaults applied. */
export interface MemcachedSettings {
  readonly maxValueBytes: number;
  readonly now: () => number;
  readonly deadlineMs: number;
  /** How long leases on tombstones and restored tombstones live (`tombstoneTtlSeconds`). */
  readonly floorTtlSeconds: number;
}

/** Validate `options` and apply the defaults; throws {@link ConfigError} listing every problem. */
export function resolveSettings(options: MemcachedAdapterOptions): MemcachedSettings {
  if (typeof options !== 'object' || options === null) throw new ConfigError(['memcachedAdapter: pass { servers } or { client }']);
  if (options.client !== undefined && options.servers !== undefined) {
    throw new ConfigError(['memcachedAdapter: pass either client or servers, not both (servers is only read when the adapter creates its client)']);
  }
  const strict = strictOptionIssues('memcachedAdapter', options.client !== undefined ? clientSchema : serversSchema, options, new Set(Object.keys(RENAMED)));
  const issues = [...strict.issues, ...validate(options)];
  if (issues.length > 0) throw new ConfigError(issues, { cause: strict.cause });
  const deadlineMs =
    options.deadlineMs ??
    (options.client !== undefined
      ? DEFAULT_CLIENT_DEADLINE_MS
      : (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS) + 1_000);
  return {
    maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    now: options.now ?? Date.now,
    deadlineMs,
    floorTtlSeconds: options.tombstoneTtlSeconds ?? DEFAULT_FLOOR_TTL_SECONDS,
  };
}

export function defaultExpiresError(defaultExpires: number): ConfigError {
  return new ConfigError([
    `memcachedAdapter.client.options.expires: is ${defaultExpires}; memjs sends it in place of an expiration of 0, so a set without TTL would expire. Create the memjs client with expires: 0 (the default) and put TTLs on the rules`,
  ]);
}

/** Options renamed in 0.2.0 when durations became milliseconds; refused so none is ignored silently. */
const RENAMED: Readonly<Record<string, string>> = {
  deadlineSeconds: 'deadlineMs',
  timeoutSeconds: 'timeoutMs',
  connectTimeoutSeconds: 'connectTimeoutMs',
  failoverTimeSeconds: 'failoverTimeMs',
};

// Types and known names only; values are checked in `validate`, which words each problem.
const number = z.optional(z.unknown());
const common = {
  maxValueBytes: number,
  now: z.optional(z.custom<() => number>((v) => typeof v === 'function', { error: 'must be a function returning milliseconds' })),
  deadlineMs: number,
  tombstoneTtlSeconds: number,
};
const clientSchema = z.strictObject({
  ...common,
  client: z.custom<MemcachedClient>((v) => typeof v === 'object' && v !== null, { error: 'must be a memjs Client' }),
});
const serversSchema = z.strictObject({
  ...common,
  servers: z.unknown(),
  username: z.optional(z.string({ error: 'must be a string' })),
  password: z.optional(z.string({ error: 'must be a string' })),
  timeoutMs: number,
  connectTimeoutMs: number,
  failover: z.optional(z.boolean({ error: 'must be true or false' })),
  failoverTimeMs: number,
  keepAlive: z.optional(z.boolean({ error: 'must be true or false' })),
  tls: z.optional(z.union([z.boolean(), z.record(z.string(), z.unknown())], { error: 'must be true, false or tls.connect options' })),
});

const SERVER_ENTRY = /^(?:[^@,\s]+@)?[^@:,\s]+(?::(\d{1,5}))?$/;

function validate(options: MemcachedAdapterOptions): string[] {
  const issues: string[] = [];
  for (const [old, renamed] of Object.entries(RENAMED)) {
    if (Object.hasOwn(options, old)) issues.push(`memcachedAdapter.${old}: renamed to ${renamed}, in milliseconds (${old}: 1 is ${renamed}: 1000)`);
  }
  checkPositive('memcachedAdapter.deadlineMs', options.deadlineMs, issues);
  checkPositiveWhole('memcachedAdapter.tombstoneTtlSeconds', options.tombstoneTtlSeconds, issues, 'seconds');
  checkPositiveWhole('memcachedAdapter.maxValueBytes', options.maxValueBytes, issues, 'bytes');
  if (options.client !== undefined) {
    checkClient(options.client, issues);
    return issues;
  }
  if (typeof options.servers !== 'string' || options.servers.trim() === '') {
    issues.push('memcachedAdapter.servers: must be a non-empty "host:port,host:port" list (or pass client)');
    return issues;
  }
  const { tls } = options;
  // Certificate verification is not something to switch off by accident: Node reads a present
  // but undefined rejectUnauthorized as false, so only an explicit true is accepted.
  if (typeof tls === 'object' && tls !== null && 'rejectUnauthorized' in tls && tls.rejectUnauthorized !== true) {
    issues.push(
      'memcachedAdapter.tls.rejectUnauthorized: certificate verification cannot be turned off; pass tls.ca for a private CA or tls.servername for a tunnel',
    );
  }
  for (const entry of options.servers.split(',')) {
    const match = SERVER_ENTRY.exec(entry.trim());
    const port = match?.[1] === undefined ? 11211 : Number(match[1]);
    if (!match || port < 1 || port > 65535) {
      issues.push(`memcachedAdapter.servers: ${JSON.stringify(entry)} is not "host:port" (or "user:pass@host:port")`);
    }
  }
  checkPositive('memcachedAdapter.timeoutMs', options.timeoutMs, issues);
  checkPositive('memcachedAdapter.connectTimeoutMs', options.connectTimeoutMs, issues);
  checkPositive('memcachedAdapter.failoverTimeMs', options.failoverTimeMs, issues);
  return issues;
}

function checkClient(client: MemcachedClient, issues: string[]): void {
  for (const method of ['set', 'delete', 'get'] as const) {
    if (typeof client[method] !== 'function') {
      issues.push(`memcachedAdapter.client.${method}: must be a function; pass a memjs Client or an object with set/delete/get`);
    }
  }
  const defaultExpires = client.options?.expires;
  if (defaultExpires !== undefined && defaultExpires !== 0) issues.push(...defaultExpiresError(defaultExpires).issues);
}
