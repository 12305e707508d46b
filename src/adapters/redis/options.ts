/**
 * Options of the Redis adapter: their types, defaults, and the validation of url options into
 * the settings a connection is built from (once, in the factory). Durations are milliseconds.
 *
 * @module
 */
import type { ConnectionOptions } from 'node:tls';
import * as z from 'zod/mini';
import { assertStrictOptions } from '../../core/strict-options.js';
import { ConfigError } from '../../errors.js';
import { checkPositive } from '../option-checks.js';
import type { RedisClientLike } from './client.js';
import type { UrlSettings } from './connection.js';

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
  const places: [string, unknown][] = [
    ['clientOptions', clientOptions],
    ['clientOptions.redisOptions', nodeOptions],
  ];
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
      "tls.rejectUnauthorized: certificate verification cannot be switched off (anyone on the network path could read and change the cache); give the server's CA as tls.ca, and tls.servername when the certificate names another host (e.g. through a tunnel)",
    );
  }
  return options;
}

/** Validate url options into settings; throws {@link ConfigError} listing every problem. */
export function resolveUrlOptions(options: RedisUrlAdapterOptions): UrlSettings {
  const issues: string[] = [];
  checkPositive('connectTimeoutMs', options.connectTimeoutMs, issues);
  checkPositive('commandTimeoutMs', options.commandTimeoutMs, issues);
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
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    clientOptions: options.clientOptions ?? {},
  };
}

// Values are checked (and worded) by checkPositive in resolveUrlOptions; zod knows the names.
const duration = z.optional(z.unknown());

/** The `{ client }` form: nothing else is read, so nothing else is accepted. */
const clientSchema = z.strictObject({
  client: z.custom<RedisClientLike>((v) => typeof v === 'object' && v !== null, { error: 'must be an ioredis Redis or Cluster' }),
});

/** The `{ url }` form; values are checked further in {@link resolveUrlOptions}. */
const urlSchema = z.strictObject({
  url: z.string({ error: 'must be a redis:// or rediss:// URL string' }),
  cluster: z.optional(z.boolean({ error: 'must be true or false' })),
  // Its contents are tls.connect's business; resolveTls refuses what is not an object.
  tls: z.optional(z.unknown()),
  connectTimeoutMs: duration,
  commandTimeoutMs: duration,
  // ioredis's options, passed through: the client's business.
  clientOptions: z.optional(z.unknown()),
});

/**
 * Refuse unknown options (naming the nearest valid one, e.g. `commandTimeout` -> `commandTimeoutMs`)
 * and options of the wrong type, for either form; throws {@link ConfigError}.
 */
export function assertKnownOptions(options: RedisAdapterOptions): void {
  const withClient = Object.hasOwn(options, 'client') && options.client !== undefined;
  assertStrictOptions('redisAdapter', withClient ? clientSchema : urlSchema, options);
}
