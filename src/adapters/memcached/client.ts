/**
 * The client side of the Memcached adapter: the smallest client surface it calls, and the memjs
 * client it creates from a `servers` list (memjs loaded on demand, TLS through local tunnels).
 *
 * @module
 */
import { loadPeer } from '../peer.js';
import type { MemjsFrameClient } from './cas.js';
import { guardMemjsClient } from './reset.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_FAILOVER_TIME_MS, DEFAULT_TIMEOUT_MS, type MemcachedServersOptions } from './options.js';
import { openTlsTunnel, type TlsTunnel } from './tls-tunnel.js';

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

/** A client the adapter created, which it must close. */
export interface OwnedClient extends MemcachedClient, Partial<MemjsFrameClient> {
  close(): void;
  /** Drop every server connection with a reset, failing what is outstanding with `reason`. */
  resetConnections(reason: string): void;
  /** The last TLS problem towards any server, when the client runs through TLS tunnels. */
  transportProblem?(): string | undefined;
}

/** memjs counts in seconds; the adapter's options are milliseconds. */
const seconds = (ms: number): number => ms / 1000;

async function loadMemjs(): Promise<typeof import('memjs')> {
  // Loaded here, not at the top, so that only the servers path needs memjs installed.
  return loadPeer('memjs', 'memcachedAdapter.servers', async () => {
    const mod: typeof import('memjs') & { default?: typeof import('memjs') } = await import('memjs');
    return mod.default ?? mod;
  });
}

/**
 * One tunnel per entry, in the same order: memjs hashes keys over list positions, so keys map
 * to the same servers as they would with the real addresses. Returns the tunnels and the
 * entries memjs dials instead (credentials kept).
 */
async function openTunnels(
  entries: readonly string[],
  options: MemcachedServersOptions,
  connectTimeoutMs: number,
): Promise<{ tunnels: TlsTunnel[]; dialed: string[] }> {
  const tlsOptions = typeof options.tls === 'object' ? options.tls : {};
  const tunnels: TlsTunnel[] = [];
  const dialed: string[] = [];
  try {
    for (const entry of entries) {
      const at = entry.lastIndexOf('@');
      const credentials = at < 0 ? '' : entry.slice(0, at + 1);
      const [host = '', port = '11211'] = entry.slice(at + 1).split(':');
      const tunnel = await openTlsTunnel(host, Number(port), tlsOptions, connectTimeoutMs);
      tunnels.push(tunnel);
      dialed.push(`${credentials}${tunnel.address}`);
    }
  } catch (error) {
    await Promise.all(tunnels.map((tunnel) => tunnel.close()));
    throw error;
  }
  return { tunnels, dialed };
}

/** Create the memjs client for validated `servers` options, through TLS tunnels with `tls`. */
export async function createMemjsClient(options: MemcachedServersOptions): Promise<OwnedClient> {
  const memjs = await loadMemjs();
  const entries = options.servers
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const { tunnels, dialed } =
    options.tls !== undefined && options.tls !== false ? await openTunnels(entries, options, connectTimeoutMs) : { tunnels: [], dialed: entries };
  const client = memjs.Client.create(dialed.join(','), {
    // memjs counts attempts here: 1 means no retry inside the invocation (see the docs).
    retries: 1,
    timeout: seconds(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    conntimeout: seconds(connectTimeoutMs),
    failover: options.failover ?? false,
    failoverTime: seconds(options.failoverTimeMs ?? DEFAULT_FAILOVER_TIME_MS),
    keepAlive: options.keepAlive ?? false,
    // A set without TTL must reach the server as 0; memjs substitutes this default for 0.
    expires: 0,
    // Failures come back as command results, which the handler logs; memjs would also print
    // them to stdout as plain text lines.
    logger: { log: () => undefined },
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  const resetConnections = guardMemjsClient(client) ?? (() => undefined);
  if (tunnels.length === 0) return Object.assign(client, { resetConnections });
  return {
    resetConnections,
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
