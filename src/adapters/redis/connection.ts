/**
 * Clients the adapter creates from a URL: built lazily on first use with ioredis (loaded by
 * dynamic import, so an adapter around a user's client never loads it), reused across
 * invocations, bounded by short timeouts so a down server fails a batch fast.
 *
 * @module
 */
import type { ConnectionOptions } from 'node:tls';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { CacheUnavailableError } from '../../errors.js';
import { deadline, withDeadline } from '../deadline.js';
import { cleanError } from './clean-error.js';
import { loadIoredis, type RedisClientLike } from './client.js';
import { abortClient, resettableTlsConnector } from './reset.js';

/** Hands out a ready client per batch and releases what the adapter owns. */
export interface Connection {
  acquire(): Promise<RedisClientLike>;
  /**
   * A command got no reply in time. A connection the adapter owns is aborted with a TCP reset
   * so the next batch opens a fresh one: a half-open socket (peer gone without a reset, e.g. a
   * replaced node) would otherwise swallow every later batch until TCP gives up, many minutes
   * later; and the reset, unlike a normal close, discards the writes the old socket still held
   * instead of delivering them late (see `reset.ts`).
   */
  noReply(): void;
  close(): Promise<void>;
}

/** Everything needed to build an ioredis client, validated and resolved from the options. */
export interface UrlSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
  readonly tls: ConnectionOptions | undefined;
  readonly cluster: boolean;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly clientOptions: Readonly<Record<string, unknown>>;
}

/** A connection around a client the user built and owns: used as is, never closed. */
export function userConnection(client: RedisClientLike): Connection {
  return { acquire: async () => client, noReply: () => {}, close: async () => {} };
}

type OwnedClient = Redis | Cluster;

/**
 * Reconnect a few times with a short backoff, then stop (status `end`). The next batch starts a
 * fresh connect, so a Lambda environment never keeps a reconnect loop running between batches.
 */
const retryStrategy = (times: number): number | null => (times > 3 ? null : Math.min(times * 100, 1_000));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function createClient(settings: UrlSettings): Promise<OwnedClient> {
  const { Redis, Cluster, AbstractConnector } = await loadIoredis();
  // Applied after the user's clientOptions, which may not set these (resolveUrlOptions refuses
  // `tls` and `Connector` there): the url scheme and the `tls` option alone decide TLS.
  const transport: RedisOptions = settings.tls ? { tls: settings.tls, Connector: resettableTlsConnector(AbstractConnector) } : { tls: undefined };
  const nodeOptions: RedisOptions = {
    username: settings.username,
    password: settings.password,
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    // Never resend a write after a reconnect: its batch was already reported failed and will be
    // retried in order; a late resend could land after newer writes to the same key.
    autoResendUnfulfilledCommands: false,
    // After a failover the old primary turns replica and answers READONLY: reconnect so DNS
    // leads to the new primary. The failed command is not resent (its batch is retried).
    reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
  };
  const { redisOptions: userNodeOptions, ...userOptions } = settings.clientOptions;
  if (!settings.cluster) {
    const options: RedisOptions = {
      ...nodeOptions,
      host: settings.host,
      port: settings.port,
      db: settings.db,
      lazyConnect: true,
      // Commands are only written to a ready connection; the adapter waits for ready itself
      // (bounded by connectTimeoutMs). A queue would hold writes past the batch's verdict.
      enableOfflineQueue: false,
      retryStrategy,
      ...userOptions,
      ...transport,
    };
    return new Redis(options);
  }
  const options: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: retryStrategy,
    slotsRefreshTimeout: settings.connectTimeoutMs,
    // With TLS the node certificates name hosts, not IPs: keep the hostnames the cluster reports
    // (ElastiCache needs this for in-transit encryption).
    ...(settings.tls ? { dnsLookup: (address: string, callback: (error: Error | null, address: string) => void) => callback(null, address) } : {}),
    ...userOptions,
    redisOptions: { ...nodeOptions, ...(isRecord(userNodeOptions) ? userNodeOptions : {}), ...transport },
  };
  return new Cluster([{ host: settings.host, port: settings.port }], options);
}

function where(settings: UrlSettings): string {
  return `${settings.cluster ? 'Redis Cluster seed' : 'Redis'} ${settings.host}:${settings.port}${settings.tls ? ' (TLS)' : ''}`;
}

/** What to check when connecting failed with `message`, as a `; ...` suffix (or nothing). */
function connectHint(message: string): string {
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message)) {
    return '; check the username and password in the url (ElastiCache: the RBAC user or AUTH token)';
  }
  if (/certificate|self[- ]signed|SSL|TLS|altnames|wrong version number|unable to verify/i.test(message)) {
    return '; check tls (ca, servername) and that the url scheme is rediss:// when the server requires TLS';
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timeout|timed out/i.test(message)) {
    return '; check host, port, security groups, that the Lambda runs in the cache VPC, and that the scheme (redis:// or rediss://) matches the server';
  }
  return '';
}

/** The message of a connection error, plus the node error behind an ioredis ClusterAllFailedError. */
function connectionErrorSummary(error: Error): string {
  const last: unknown = (error as Error & { lastNodeError?: unknown }).lastNodeError;
  return last instanceof Error ? `${error.message} Last node error: ${last.message}` : error.message;
}

/** One readiness wait per client, shared by every caller that arrives before it is ready. */
const readiness = new WeakMap<OwnedClient, Promise<void>>();

function whenReady(client: OwnedClient, settings: UrlSettings): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  let waiting = readiness.get(client);
  if (waiting === undefined) {
    // Each wait adds three listeners: per caller, a burst of first calls would pass Node's
    // limit of ten and leave listeners behind until the client connects.
    waiting = waitUntilReady(client, settings).finally(() => readiness.delete(client));
    readiness.set(client, waiting);
  }
  return waiting;
}

function waitUntilReady(client: OwnedClient, settings: UrlSettings): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const fail = (detail: string, cause?: unknown) => {
      cleanup();
      reject(new CacheUnavailableError(`could not connect to ${where(settings)}: ${detail}${connectHint(detail)}`, { adapter: 'redis' }, { cause }));
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => fail(connectionErrorSummary(error), cleanError(error));
    const onEnd = () => fail('connection ended');
    const ready = deadline(settings.connectTimeoutMs);
    void ready.expired.then(() => fail(`not ready within connectTimeoutMs (${settings.connectTimeoutMs} ms)`));
    const cleanup = () => {
      ready.cancel();
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('end', onEnd);
    };
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('end', onEnd);
    if (client.status === 'wait' || client.status === 'end' || client.status === 'close') {
      // Errors arrive through the listeners above; the promise would only duplicate them.
      client.connect().catch(() => undefined);
    }
  });
}

async function release(client: OwnedClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') {
    const quit = client.quit().then(
      () => 'quit' as const,
      () => 'failed' as const,
    );
    const how = await withDeadline<'quit' | 'failed' | 'late'>(quit, timeoutMs, () => 'late');
    if (how === 'quit') return;
  }
  // No orderly goodbye: whatever the socket still holds is dropped, as after a missed reply.
  abortClient(client);
}

/** A connection the adapter owns: one client, created on first use, reused until `close()`. */
export function ownedConnection(settings: UrlSettings): Connection {
  let pending: Promise<OwnedClient> | undefined;
  return {
    async acquire() {
      pending ??= createClient(settings).then((client) => {
        // Without a listener ioredis prints every connection error; the adapter reports them
        // through command results instead.
        client.on('error', () => undefined);
        return client;
      });
      let client: OwnedClient;
      try {
        client = await pending;
      } catch (error) {
        pending = undefined;
        throw error;
      }
      await whenReady(client, settings);
      return client;
    },
    noReply() {
      const current = pending;
      if (current === undefined) return;
      // The next acquire() builds a new client on a new socket. The old one is reset: what it
      // still held is discarded by this side's kernel, never delivered after the retry. Replies
      // still due on it are lost; those commands are already reported failed.
      pending = undefined;
      current.then(abortClient).catch(() => undefined);
    },
    async close() {
      const current = pending;
      pending = undefined;
      if (current === undefined) return;
      const client = await current.catch(() => undefined);
      if (client) await release(client, settings.commandTimeoutMs);
    },
  };
}
