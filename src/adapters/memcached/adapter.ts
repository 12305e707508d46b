/**
 * The Memcached cache adapter, on memjs (binary protocol): the factory, which puts together the
 * options (`options.ts`), the client's lifecycle (`connection.ts`), batch execution
 * (`execute.ts`) and the versioned operations (`versioned.ts`).
 *
 * @module
 */
import type { AnyCacheCommand, CacheAdapter, CommandResult, FillOptions, LeaseOutcome } from '../../core/commands.js';
import { CacheCommandError, CacheUnavailableError, ConfigError } from '../../errors.js';
import { withDeadline } from '../deadline.js';
import { canSendFrames } from './cas.js';
import type { MemcachedClient } from './client.js';
import { memcachedConnection } from './connection.js';
import { attempt, errorMessage, executeBatch, type BatchContext } from './execute.js';
import { getMany, storedText } from './get-many.js';
import { memcachedKey } from './key.js';
import { type MemcachedAdapterOptions, resolveSettings } from './options.js';
import { type VersionedMemcached, versionedClients } from './versioned.js';

/**
 * The Memcached adapter. Besides `set` and `delete` it runs versioned commands and reader
 * leases (`capabilities.versioned`), each as a compare-and-swap loop on its key, when its client
 * can send raw binary-protocol frames: the client it creates can, and so can a memjs `Client`
 * you pass; a minimal client without `perform` cannot (then `capabilities` is absent).
 */
export interface MemcachedAdapter extends CacheAdapter {
  execute(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]>;
  /** See `CacheAdapter.getMany`: one get per key, all sent before any answer, under one deadline. */
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** See `VersionedCacheAdapter.lease`. Rejects when the client cannot compare-and-swap. */
  lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome>;
  /** See `VersionedCacheAdapter.fill`. Rejects when the client cannot compare-and-swap. */
  fill(key: string, token: string, value: string | undefined, options?: FillOptions): Promise<boolean>;
}

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
 * // Your own memjs client (left open by adapter.close()); memjs counts its timeouts in seconds:
 * import memjs from 'memjs';
 * const client = memjs.Client.create('10.0.1.12:11211,10.0.2.40:11211', { retries: 1, timeout: 1 });
 * const adapter = memcachedAdapter({ client });
 * ```
 */
export function memcachedAdapter(options: MemcachedAdapterOptions): MemcachedAdapter {
  const settings = resolveSettings(options);
  const { deadlineMs } = settings;
  const connection = memcachedConnection(options);
  const versionedFor = versionedClients(settings);
  const context: BatchContext = {
    settings,
    connection,
    runVersioned: (client, command) => {
      const ops = versionedFor(client);
      if (typeof ops !== 'string') return ops.run(command);
      return Promise.resolve({ ok: false, error: new CacheCommandError(ops, { key: command.key, command: command.kind }) });
    },
  };
  /** Run one call under the adapter's deadline; a client that does not answer in time is replaced. */
  const answerWithin = <T>(client: MemcachedClient, call: () => Promise<T>): Promise<T> =>
    withDeadline(attempt(call), deadlineMs, (): never => {
      connection.noAnswer(client);
      throw new Error(`no answer within ${deadlineMs / 1000} s`);
    });
  /** Run a reader operation under the adapter's deadline, like `get`. */
  const readerCall = async <T>(what: string, call: (ops: VersionedMemcached) => Promise<T>): Promise<T> => {
    const client = await connection.acquire();
    const ops = versionedFor(client);
    if (typeof ops === 'string') throw new ConfigError([`memcachedAdapter.client: ${ops}`]);
    try {
      return await answerWithin(client, () => call(ops));
    } catch (cause) {
      throw new CacheUnavailableError(`memcached ${what} failed: ${errorMessage(cause)}`, { adapter: 'memcached' }, { cause });
    }
  };

  return {
    name: 'memcached',
    ...(options.client === undefined || canSendFrames(options.client) ? { capabilities: { versioned: true } } : {}),
    async execute(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]> {
      if (commands.length === 0) return [];
      return executeBatch(await connection.acquire(), commands, context);
    },
    async get(key: string): Promise<string | undefined> {
      const client = await connection.acquire();
      let value: Uint8Array | string | null;
      try {
        ({ value } = await answerWithin(client, () => client.get(memcachedKey(key))));
      } catch (cause) {
        // No key in the message: keys are built from item data, and this error has no `key`
        // field the handler's log redaction could use. The caller knows which key it asked for.
        throw new CacheUnavailableError(`memcached get failed: ${errorMessage(cause)}`, { adapter: 'memcached' }, { cause });
      }
      return storedText(value);
    },
    async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
      if (keys.length === 0) return [];
      const client = await connection.acquire();
      try {
        return await answerWithin(client, () => getMany(client, keys));
      } catch (cause) {
        throw new CacheUnavailableError(`memcached getMany of ${keys.length} keys failed: ${errorMessage(cause)}`, { adapter: 'memcached' }, { cause });
      }
    },
    lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome> {
      return readerCall('lease', (ops) => ops.lease(key, token, ttlMs));
    },
    fill(key: string, token: string, value: string | undefined, fillOptions: FillOptions = {}): Promise<boolean> {
      return readerCall('fill', (ops) => ops.fill(key, token, value, fillOptions));
    },
    close: () => connection.close(),
  };
}
