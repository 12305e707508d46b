/**
 * The Memcached cache adapter, on memjs (binary protocol).
 *
 * @module
 */
import type { ConnectionOptions } from 'node:tls';
import type {
  AnyCacheCommand,
  CacheAdapter,
  CacheCommand,
  CommandResult,
  FillOptions,
  LeaseOutcome,
  VersionedCommand,
} from '../../core/commands.js';
import { CacheCommandError, CacheUnavailableError, ConfigError } from '../../errors.js';
import { MemcachedValueTooLargeError } from './errors.js';
import { memcachedExpiration } from './expiry.js';
import { memcachedKey } from './key.js';
import { openTlsTunnel, type TlsTunnel } from './tls-tunnel.js';
import { canSendFrames, type MemjsFrameClient } from './cas.js';
import { DEFAULT_FLOOR_TTL_SECONDS, versionedMemcached, type VersionedMemcached } from './versioned.js';
import { compareVersions } from '../../core/versioned.js';

/**
 * The smallest client the adapter needs: the promise forms of memjs `Client#set`, `#delete` and
 * `#get`. A memjs `Client` satisfies it; so can any object with these methods (a client for
 * another transport, a test double).
 *
 * @example
 * ```ts
 * import memjs from 'memjs';
 * const client: MemcachedClient = memjs.Client.create('cache.internal:11211', { expires: 0 });
 * ```
 */
export interface MemcachedClient {
  /**
   * Store a value. Resolves `true` once the server stored it; rejects (or resolves `false`) when
   * it did not. `expires` is the raw Memcached expiration: 0, relative seconds up to 30 days, or
   * an absolute UNIX time above that.
   */
  set(key: string, value: string, options: { expires?: number }): Promise<boolean>;
  /** Delete a key. Resolves `true` if it existed, `false` if it did not; rejects on failure. */
  delete(key: string): Promise<boolean>;
  /** Read a key. `value` is `null` when the key is absent. */
  get(key: string): Promise<{ value: Uint8Array | string | null }>;
  /**
   * memjs keeps its options here. memjs sends its default `expires` in place of an expiration of
   * 0, so the adapter refuses a client whose default is not 0: a set without TTL would expire.
   */
  readonly options?: { readonly expires?: number | undefined };
}

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
   * The longest `execute` and `get` wait for answers. Commands still unanswered then are
   * reported failed (outcome unknown), and a client the adapter created is replaced. A safety
   * net under the client's own timeouts: memjs never settles requests that were outstanding on a
   * connection the server closed cleanly (checked with memjs 1.3.2). Default: with `servers`,
   * `connectTimeoutSeconds + timeoutSeconds + 1` (3 s); with `client`, 5 s.
   */
  readonly deadlineSeconds?: number;
  /**
   * Versioned strategy and reader leases only. Memcached cannot report a key's remaining TTL, so
   * a lease taken on a tombstone, and a tombstone restored when such a lease is given back, live
   * this many seconds. Use at least the longest `tombstoneTtlSeconds` of your rules; a longer
   * life only refuses more old writes. Default 86,400 (24 h).
   */
  readonly tombstoneTtlSeconds?: number;
}

/**
 * The Memcached adapter. Besides `set` and `delete` it runs versioned commands and reader
 * leases (`capabilities.versioned`), each as a compare-and-swap loop on its key, when its client
 * can send raw binary-protocol frames: the client it creates can, and so can a memjs `Client`
 * you pass; a minimal client without `perform` cannot (then `capabilities` is absent).
 */
export interface MemcachedAdapter extends CacheAdapter {
  execute(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]>;
  /** See `VersionedCacheAdapter.lease`. Rejects when the client cannot compare-and-swap. */
  lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome>;
  /** See `VersionedCacheAdapter.fill`. Rejects when the client cannot compare-and-swap. */
  fill(key: string, token: string, value: string | undefined, options?: FillOptions): Promise<boolean>;
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
   * memjs `timeout`: seconds a request may wait for its answer, counted from when it is written;
   * when one is late, memjs fails every command outstanding on that server and reconnects.
   * Default 1: far below any sensible Lambda timeout, far above an in-VPC round trip.
   */
  readonly timeoutSeconds?: number;
  /** memjs `conntimeout`: seconds to wait for a connection (DNS included; TLS too with `tls`). Default 1. */
  readonly connectTimeoutSeconds?: number;
  /**
   * memjs `failover`: after a server fails, send its keys to the next server for
   * `failoverTimeSeconds`. Default `false`: when the server returns, keys move back and may find
   * the value written there before the failure, which the stream never corrected (stale reads).
   */
  readonly failover?: boolean;
  /** memjs `failoverTime`: seconds a failed server is skipped when `failover` is on. Default 60. */
  readonly failoverTimeSeconds?: number;
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

/** A client the adapter created, which it must close. */
interface OwnedClient extends MemcachedClient, Partial<MemjsFrameClient> {
  close(): void;
  /** The last TLS problem towards any server, when the client runs through TLS tunnels. */
  transportProblem?(): string | undefined;
}

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
const DEFAULT_TIMEOUT_SECONDS = 1;
const DEFAULT_CONNECT_TIMEOUT_SECONDS = 1;
const DEFAULT_CLIENT_DEADLINE_SECONDS = 5;
/** Commands issued per turn of the event loop (see `execute`). */
const ISSUE_SLICE = 256;

const SERVER_ENTRY = /^(?:[^@,\s]+@)?[^@:,\s]+(?::(\d{1,5}))?$/;

/**
 * Create a {@link CacheAdapter} for Memcached and ElastiCache for Memcached node-based clusters,
 * with or without in-transit encryption (`tls`). Not for ElastiCache Serverless, which refuses
 * memjs's binary protocol: pass a `client` for another protocol there (docs/adapters/memcached.md).
 *
 * - Every command of a batch is sent before any answer is awaited: memjs writes each request to
 *   the server's one connection as it is issued, so a batch costs about one round trip per
 *   server. Commands on one key go to one server over one connection, which Memcached answers in
 *   order, so they take effect in the order given.
 * - Keys go through {@link memcachedKey}; readers apply it too.
 * - No TTL stores with expiration 0 (never expire); TTLs over 30 days are sent as absolute times.
 * - A created client makes one attempt per command (memjs `retries: 1`): a failed or timed-out
 *   command is reported `{ ok: false }` and Lambda's retry of the record is the retry.
 *
 * @example
 * ```ts
 * import { createStreamHandler } from 'ddb-cache-sync';
 * import { memcachedAdapter } from 'ddb-cache-sync/memcached';
 *
 * const adapter = memcachedAdapter({ servers: process.env.MEMCACHED_SERVERS ?? '' });
 * export const handler = createStreamHandler({ adapter, rules });
 * ```
 *
 * @example
 * ```ts
 * // Your own memjs client (left open by adapter.close()):
 * import memjs from 'memjs';
 * const client = memjs.Client.create('10.0.1.12:11211,10.0.2.40:11211', { retries: 1, timeout: 1 });
 * const adapter = memcachedAdapter({ client });
 * ```
 */
export function memcachedAdapter(options: MemcachedAdapterOptions): MemcachedAdapter {
  const issues = validate(options);
  if (issues.length > 0) throw new ConfigError(issues);

  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const now = options.now ?? Date.now;
  const deadlineMs =
    1000 *
    (options.deadlineSeconds ??
      (options.client !== undefined
        ? DEFAULT_CLIENT_DEADLINE_SECONDS
        : (options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) + (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) + 1));
  let created: Promise<OwnedClient> | undefined;
  let owned: OwnedClient | undefined;
  const versionedCapable = options.client === undefined || canSendFrames(options.client);
  const floorTtlSeconds = options.tombstoneTtlSeconds ?? DEFAULT_FLOOR_TTL_SECONDS;
  const versionedClients = new WeakMap<object, VersionedMemcached>();
  /** The versioned operations on `client`, or why it cannot run them. */
  const versionedFor = (client: MemcachedClient): VersionedMemcached | string => {
    if (!canSendFrames(client)) {
      return 'the memcached client cannot send raw binary-protocol frames (no perform), which versioned commands and leases need; pass a memjs Client or let the adapter create one';
    }
    let ops = versionedClients.get(client);
    if (ops === undefined) {
      ops = versionedMemcached(client, { now, maxValueBytes, floorTtlSeconds });
      versionedClients.set(client, ops);
    }
    return ops;
  };
  const isVersioned = (command: AnyCacheCommand): command is VersionedCommand =>
    command.kind === 'set-versioned' || command.kind === 'delete-versioned';
  const runVersioned = (client: MemcachedClient, command: VersionedCommand): Promise<CommandResult> => {
    const ops = versionedFor(client);
    if (typeof ops === 'string') {
      return Promise.resolve({ ok: false, error: new CacheCommandError(ops, { key: command.key, command: command.kind }) });
    }
    return ops.run(command);
  };
  /** Run a reader operation under the adapter's deadline, like `get`. */
  const readerCall = async <T>(what: string, call: (ops: VersionedMemcached) => Promise<T>): Promise<T> => {
    const client = await clientFor();
    const ops = versionedFor(client);
    if (typeof ops === 'string') throw new ConfigError([`memcachedAdapter.client: ${ops}`]);
    const { expired, cancel } = deadline(deadlineMs);
    try {
      return await Promise.race([
        attempt(() => call(ops)),
        expired.then((): never => {
          discard(client);
          throw new Error(`no answer within ${deadlineMs / 1000} s`);
        }),
      ]);
    } catch (cause) {
      throw new CacheUnavailableError(`memcached ${what} failed: ${describe(cause)}`, { adapter: 'memcached' }, { cause });
    } finally {
      cancel();
    }
  };

  /** Drop a created client whose state can no longer be trusted; the next call creates another. */
  const discard = (client: MemcachedClient): void => {
    if (owned === undefined || owned !== client) return;
    owned.close();
    owned = undefined;
    created = undefined;
  };

  const clientFor = (): Promise<MemcachedClient> => {
    if (options.client !== undefined) return Promise.resolve(options.client);
    // Created once, on first use, and reused by every later invocation of a warm function.
    created ??= createMemjsClient(options).then(
      (client) => {
        owned = client;
        return client;
      },
      (error: unknown) => {
        created = undefined;
        throw error;
      },
    );
    return created;
  };

  const run = (client: MemcachedClient, command: CacheCommand): Promise<CommandResult> => {
    const key = memcachedKey(command.key);
    if (command.kind === 'delete') {
      // memjs resolves false for a key that was not there: the delete still succeeded.
      return attempt(() => client.delete(key)).then(
        (): CommandResult => ({ ok: true }),
        (error: unknown) => commandFailure(command, error, maxValueBytes, owned?.transportProblem?.()),
      );
    }
    const bytes = Buffer.byteLength(command.value, 'utf8');
    if (bytes > maxValueBytes) {
      // Delete in the set's place, in the same position, so the old value does not outlive the
      // item that replaced it. Memcached does the same when it refuses a value itself.
      return attempt(() => client.delete(key)).then(
        () => true,
        () => false,
      ).then((removed): CommandResult => ({
        ok: false,
        error: new MemcachedValueTooLargeError({ key: command.key, bytes, limit: maxValueBytes, refusedBy: 'adapter', removed }),
      }));
    }
    const expiry = memcachedExpiration(command.ttlSeconds, now());
    if ('problem' in expiry) {
      return Promise.resolve({
        ok: false,
        error: new CacheCommandError(`memcached set of key ${JSON.stringify(command.key)} not sent: ${expiry.problem}`, {
          key: command.key,
          command: 'set',
        }),
      });
    }
    const defaultExpires = client.options?.expires;
    if (expiry.expires === 0 && defaultExpires !== undefined && defaultExpires !== 0) {
      return Promise.resolve({ ok: false, error: defaultExpiresError(defaultExpires) });
    }
    return attempt(() => client.set(key, command.value, { expires: expiry.expires })).then(
      (stored): CommandResult =>
        stored === false
          ? {
              ok: false,
              error: new CacheCommandError(`memcached did not store key ${JSON.stringify(command.key)}`, {
                key: command.key,
                command: 'set',
              }),
            }
          : { ok: true },
      (error: unknown) => commandFailure(command, error, maxValueBytes, owned?.transportProblem?.()),
    );
  };

  return {
    name: 'memcached',
    ...(versionedCapable ? { capabilities: { versioned: true } } : {}),
    async execute(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]> {
      if (commands.length === 0) return [];
      const client = await clientFor();
      // A versioned command is several round trips (read, compare-and-swap, maybe again), so the
      // commands of a key that has one run one after another, in batch order; other keys' run
      // as before, all at once.
      const versionedKeys = new Set(commands.filter(isVersioned).map((command) => command.key));
      const winners = supersededBy(commands, isVersioned);
      const chains = new Map<string, Promise<CommandResult>>();
      const issue = (command: AnyCacheCommand): Promise<CommandResult> => {
        if (!versionedKeys.has(command.key)) return run(client, command as CacheCommand);
        const previous = chains.get(command.key);
        const next = (): Promise<CommandResult> => (isVersioned(command) ? runVersioned(client, command) : run(client, command));
        const result = previous === undefined ? next() : previous.then(next, next);
        chains.set(command.key, result);
        return result;
      };
      // Issue every command before awaiting any answer: memjs writes each request to its
      // server's connection as it is issued, so the whole batch is in flight at once. Between
      // slices the event loop runs once, so that on a slow (small) function a long issuing loop
      // cannot starve the connect callback and the replies until memjs's timers call them lost.
      const issued: (Promise<CommandResult> | undefined)[] = [];
      for (let start = 0; start < commands.length; start += ISSUE_SLICE) {
        if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        commands.slice(start, start + ISSUE_SLICE).forEach((command, j) => {
          // A versioned command that a later one of the same run supersedes is not sent: it
          // shares the outcome of the one that decides the key (applied, or failed together).
          issued.push(winners.has(start + j) ? undefined : issue(command));
        });
      }
      const pending = issued.map((result, i) => result ?? (issued[winners.get(i) ?? i] as Promise<CommandResult>));
      const { expired, cancel } = deadline(deadlineMs);
      try {
        return await Promise.all(
          pending.map((result, i) =>
            Promise.race([
              result,
              expired.then((): CommandResult => {
                discard(client);
                const command = commands[i];
                return {
                  ok: false,
                  error: new CacheCommandError(
                    `memcached ${command?.kind ?? 'command'} of key ${JSON.stringify(command?.key)} got no answer within ${deadlineMs / 1000} s, outcome unknown; the connection was dropped or the server hangs`,
                    { key: command?.key ?? '', command: command?.kind ?? 'unknown' },
                  ),
                };
              }),
            ]),
          ),
        );
      } finally {
        cancel();
      }
    },
    async get(key: string): Promise<string | undefined> {
      const client = await clientFor();
      const { expired, cancel } = deadline(deadlineMs);
      let value: Uint8Array | string | null;
      try {
        ({ value } = await Promise.race([
          attempt(() => client.get(memcachedKey(key))),
          expired.then(() => {
            discard(client);
            throw new Error(`no answer within ${deadlineMs / 1000} s`);
          }),
        ]));
      } catch (cause) {
        // No key in the message: keys are built from item data, and this error has no `key`
        // field the handler's log redaction could use. The caller knows which key it asked for.
        throw new CacheUnavailableError(
          `memcached get failed: ${describe(cause)}`,
          { adapter: 'memcached' },
          { cause },
        );
      } finally {
        cancel();
      }
      if (value === null || value === undefined) return undefined;
      if (typeof value === 'string') return value;
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
    },
    lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome> {
      return readerCall('lease', (ops) => ops.lease(key, token, ttlMs));
    },
    fill(key: string, token: string, value: string | undefined, fillOptions: FillOptions = {}): Promise<boolean> {
      return readerCall('fill', (ops) => ops.fill(key, token, value, fillOptions));
    },
    async close(): Promise<void> {
      const pending = created;
      created = undefined;
      owned = undefined;
      if (pending === undefined) return;
      try {
        (await pending).close();
      } catch {
        // Creation failed: nothing to close.
      }
    },
  };
}

/**
 * Within each run of consecutive versioned commands on one key (no plain command on that key in
 * between), only the command with the greatest (version, rank) decides the key's final state:
 * every other would be refused or overwritten. Maps each other command's index to that one's.
 */
function supersededBy(commands: readonly AnyCacheCommand[], isVersioned: (c: AnyCacheCommand) => c is VersionedCommand): Map<number, number> {
  const superseded = new Map<number, number>();
  const runs = new Map<string, number[]>();
  const close = (key: string) => {
    const run = runs.get(key);
    runs.delete(key);
    if (run === undefined || run.length < 2) return;
    let best = run[0] as number;
    for (const i of run) if (outranks(commands[i] as VersionedCommand, commands[best] as VersionedCommand)) best = i;
    for (const i of run) if (i !== best) superseded.set(i, best);
  };
  commands.forEach((command, i) => {
    if (!isVersioned(command)) return close(command.key);
    const run = runs.get(command.key);
    if (run === undefined) runs.set(command.key, [i]);
    else run.push(i);
  });
  for (const key of [...runs.keys()]) close(key);
  return superseded;
}

/** True when `a` is strictly newer than `b` (a delete outranks a value at one version). */
function outranks(a: VersionedCommand, b: VersionedCommand): boolean {
  const order = compareVersions(a.version, b.version);
  const rank = (c: VersionedCommand) => (c.kind === 'delete-versioned' ? 1 : 0);
  return order > 0 || (order === 0 && rank(a) > rank(b));
}

/** A promise that resolves after `ms`, and a way to cancel its timer. */
function deadline(ms: number): { expired: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
}

/** Call `fn`, turning a synchronous throw into a rejection. */
function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function commandFailure(
  command: CacheCommand,
  error: unknown,
  maxValueBytes: number,
  transportProblem: string | undefined,
): CommandResult {
  const message = describe(error);
  if (command.kind === 'set' && /value too large/i.test(message)) {
    // memcached unlinks the old item when it refuses a value as too large (checked against 1.6).
    return {
      ok: false,
      error: new MemcachedValueTooLargeError(
        {
          key: command.key,
          bytes: Buffer.byteLength(command.value, 'utf8'),
          // The server's own limit is lower than this and unknown to the adapter.
          limit: maxValueBytes,
          refusedBy: 'server',
          removed: true,
        },
        error,
      ),
    };
  }
  // memjs prefixes errors the server answered with "MemJS <COMMAND>:"; everything else is a
  // connection failure or timeout, after which the command may or may not have been applied.
  const answered = message.startsWith('MemJS ');
  const text = answered
    ? `memcached refused ${command.kind} of key ${JSON.stringify(command.key)}: ${message}`
    : `memcached ${command.kind} of key ${JSON.stringify(command.key)} failed, outcome unknown: ${message}${transportProblem === undefined ? '' : ` (TLS: ${transportProblem})`}. Check that the function reaches the servers (VPC subnets, security group, port) and that they are up`;
  return { ok: false, error: new CacheCommandError(text, { key: command.key, command: command.kind }, { cause: error }) };
}

function defaultExpiresError(defaultExpires: number): ConfigError {
  return new ConfigError([
    `memcachedAdapter.client.options.expires: is ${defaultExpires}; memjs sends it in place of an expiration of 0, so a set without TTL would expire. Create the memjs client with expires: 0 (the default) and put TTLs on the rules`,
  ]);
}

function validate(options: MemcachedAdapterOptions): string[] {
  const issues: string[] = [];
  const positive = (name: string, value: number | undefined): void => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      issues.push(`memcachedAdapter.${name}: must be a positive number, got ${String(value)}`);
    }
  };
  positive('deadlineSeconds', options.deadlineSeconds);
  const { tombstoneTtlSeconds } = options;
  if (tombstoneTtlSeconds !== undefined && !(Number.isSafeInteger(tombstoneTtlSeconds) && tombstoneTtlSeconds > 0)) {
    issues.push(`memcachedAdapter.tombstoneTtlSeconds: must be a positive whole number of seconds, got ${String(tombstoneTtlSeconds)}`);
  }
  const { maxValueBytes } = options;
  if (maxValueBytes !== undefined && !(Number.isSafeInteger(maxValueBytes) && maxValueBytes > 0)) {
    issues.push(`memcachedAdapter.maxValueBytes: must be a positive whole number of bytes, got ${String(maxValueBytes)}`);
  }
  if (options.client !== undefined) {
    const { client } = options;
    for (const method of ['set', 'delete', 'get'] as const) {
      if (typeof client[method] !== 'function') {
        issues.push(`memcachedAdapter.client.${method}: must be a function; pass a memjs Client or an object with set/delete/get`);
      }
    }
    const defaultExpires = client.options?.expires;
    if (defaultExpires !== undefined && defaultExpires !== 0) issues.push(...defaultExpiresError(defaultExpires).issues);
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
    issues.push('memcachedAdapter.tls.rejectUnauthorized: certificate verification cannot be turned off; pass tls.ca for a private CA or tls.servername for a tunnel');
  }
  for (const entry of options.servers.split(',')) {
    const match = SERVER_ENTRY.exec(entry.trim());
    const port = match?.[1] === undefined ? 11211 : Number(match[1]);
    if (!match || port < 1 || port > 65535) {
      issues.push(`memcachedAdapter.servers: ${JSON.stringify(entry)} is not "host:port" (or "user:pass@host:port")`);
    }
  }
  positive('timeoutSeconds', options.timeoutSeconds);
  positive('connectTimeoutSeconds', options.connectTimeoutSeconds);
  positive('failoverTimeSeconds', options.failoverTimeSeconds);
  return issues;
}

async function createMemjsClient(options: MemcachedServersOptions): Promise<OwnedClient> {
  let memjs: typeof import('memjs');
  try {
    // Loaded here, not at the top, so that only the servers path needs memjs installed.
    const mod: typeof import('memjs') & { default?: typeof import('memjs') } = await import('memjs');
    memjs = mod.default ?? mod;
  } catch (cause) {
    throw new ConfigError(['memcachedAdapter.servers: needs the memjs package; install it (npm install memjs) or pass client'], {
      cause,
    });
  }
  const entries = options.servers
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const connectTimeoutSeconds = options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS;
  const tunnels: TlsTunnel[] = [];
  const dialed: string[] = [];
  if (options.tls !== undefined && options.tls !== false) {
    const tlsOptions = options.tls === true ? {} : options.tls;
    try {
      // One tunnel per entry, in the same order: memjs hashes keys over list positions, so keys
      // map to the same servers as they would with the real addresses.
      for (const entry of entries) {
        const at = entry.lastIndexOf('@');
        const credentials = at < 0 ? '' : entry.slice(0, at + 1);
        const [host = '', port = '11211'] = entry.slice(at + 1).split(':');
        const tunnel = await openTlsTunnel(host, Number(port), tlsOptions, connectTimeoutSeconds * 1000);
        tunnels.push(tunnel);
        dialed.push(`${credentials}${tunnel.address}`);
      }
    } catch (error) {
      await Promise.all(tunnels.map((tunnel) => tunnel.close()));
      throw error;
    }
  } else {
    dialed.push(...entries);
  }
  const client = memjs.Client.create(dialed.join(','), {
    // memjs counts attempts here: 1 means no retry inside the invocation (see the docs).
    retries: 1,
    timeout: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    conntimeout: connectTimeoutSeconds,
    failover: options.failover ?? false,
    failoverTime: options.failoverTimeSeconds ?? 60,
    keepAlive: options.keepAlive ?? false,
    // A set without TTL must reach the server as 0; memjs substitutes this default for 0.
    expires: 0,
    // Failures come back as command results, which the handler logs; memjs would also print
    // them to stdout as plain text lines.
    logger: { log: () => undefined },
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  if (tunnels.length === 0) return client;
  return {
    set: (key, value, setOptions) => client.set(key, value, setOptions),
    delete: (key) => client.delete(key),
    get: (key) => client.get(key),
    options: client.options,
    // Raw frames (compare-and-swap for versioned commands) go through the same tunnels.
    perform: (key, request, seq, callback, retries) => client.perform(key, request, seq, callback, retries),
    incrSeq: () => client.incrSeq(),
    get seq() {
      return client.seq;
    },
    close: () => {
      client.close();
      for (const tunnel of tunnels) void tunnel.close();
    },
    transportProblem: () => tunnels.map((tunnel) => tunnel.lastError()?.message).find((message) => message !== undefined),
  };
}
