/**
 * The lifecycle of the adapter's client: the user's, used as is and never closed; or one the
 * adapter creates on first use, reuses across the invocations of a warm function, replaces when
 * it stops answering, and closes on `close()`.
 *
 * @module
 */
import { createMemjsClient, type MemcachedClient, type OwnedClient } from './client.js';
import type { MemcachedAdapterOptions } from './options.js';
import { guardMemjsClient } from './reset.js';

const NO_ANSWER = 'memcached connection reset: a command got no answer within the adapter deadline';

/** Hands out the client for a batch or a read and releases what the adapter owns. */
export interface MemcachedConnection {
  acquire(): Promise<MemcachedClient>;
  /**
   * `client` left a command unanswered past the deadline: its state can no longer be trusted.
   * A client the adapter created is reset and closed, and the next `acquire` creates another; a
   * user's memjs `Client` has its server connections reset (reopened on its next command);
   * any other client is left alone (its recovery is its own).
   */
  noAnswer(client: MemcachedClient): void;
  /** The last TLS problem of the created client's tunnels, for error messages. */
  transportProblem(): string | undefined;
  close(): Promise<void>;
}

/** The connection for validated `options`. */
export function memcachedConnection(options: MemcachedAdapterOptions): MemcachedConnection {
  if (options.client !== undefined) {
    const { client } = options;
    // From construction on: memjs's own timeouts fire before the adapter's deadline, and each
    // must leave the server clean for the next invocation.
    const reset = guardMemjsClient(client);
    return {
      acquire: async () => client,
      noAnswer: (stuck) => {
        if (stuck === client) reset?.(NO_ANSWER);
      },
      transportProblem: () => undefined,
      close: async () => {},
    };
  }
  let created: Promise<OwnedClient> | undefined;
  let owned: OwnedClient | undefined;
  return {
    acquire() {
      created ??= createMemjsClient(options).then(
        (fresh) => {
          owned = fresh;
          return fresh;
        },
        (error: unknown) => {
          created = undefined;
          throw error;
        },
      );
      return created;
    },
    noAnswer(stuck) {
      if (owned === undefined || owned !== stuck) return;
      owned.resetConnections(NO_ANSWER);
      owned.close();
      owned = undefined;
      created = undefined;
    },
    transportProblem: () => owned?.transportProblem?.(),
    async close() {
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
