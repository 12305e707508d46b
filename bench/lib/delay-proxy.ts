/**
 * A TCP proxy on loopback that adds network latency and counts round trips.
 *
 * Every chunk is forwarded `oneWayDelayMs` after it arrived, in each direction, in order, so a
 * request/response pair costs one added round-trip time (2 x oneWayDelayMs). Node timers have
 * 1 ms granularity, so the last stretch before a chunk is due is waited with `setImmediate`
 * polling: sub-millisecond delays (0.5 ms RTT) are honoured at the cost of CPU while traffic is
 * in flight. Run it in a worker thread (see `proxy-worker.ts`) when timing the client.
 *
 * Round trips are counted per connection as **request flights**: a burst of client bytes that
 * starts after the proxy delivered server bytes to the client and at least one round-trip time
 * after the previous client bytes. A request that had to wait for a reply always satisfies both
 * (its reply needed two delayed hops); a pipeline streamed without waiting does not, however
 * many TCP chunks it spans. A new TCP connection costs one more round trip (the handshake),
 * counted separately in `connections`.
 *
 * @module
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { listenOnLoopback, proxySockets } from '../../test/helpers/proxy-sockets.js';

const HOST = '127.0.0.1';

/** Counters since the proxy started or since the last {@link DelayProxy.reset}. */
export interface ProxyCounts {
  /** TCP connections accepted (each costs one round trip for the handshake). */
  connections: number;
  /** Request flights, summed over connections (see the module doc). */
  flights: number;
  /** Client -> server bytes and chunks. */
  requestBytes: number;
  requestChunks: number;
  /** Server -> client bytes and chunks. */
  responseBytes: number;
  responseChunks: number;
  /** When each flight started (ms since the counters were zeroed) and the gap before it. */
  flightLog: { at: number; gapMs: number; requestBytesBefore: number }[];
}

/** A running proxy. */
export interface DelayProxy {
  /** Port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** Counters so far. */
  counts(): ProxyCounts;
  /** Zero the counters (open connections keep their flight state). */
  reset(): void;
  /** Stop listening and destroy every connection. */
  close(): Promise<void>;
}

/** Options for {@link startDelayProxy}. */
export interface DelayProxyOptions {
  /** Where to forward: a loopback port. */
  readonly targetPort: number;
  readonly targetHost?: string;
  /** Delay added to each direction, in milliseconds (RTT added = 2x this). May be 0. */
  readonly oneWayDelayMs: number;
}

function zero(): ProxyCounts {
  return { connections: 0, flights: 0, requestBytes: 0, requestChunks: 0, responseBytes: 0, responseChunks: 0, flightLog: [] };
}

/** One direction of one connection: chunks waiting for their due time. */
class DelayedPipe {
  private readonly queue: { due: number; chunk: Buffer }[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly to: Socket,
    private readonly delayMs: number,
    private readonly onDeliver: () => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.delayMs <= 0) {
      this.to.write(chunk);
      this.onDeliver();
      return;
    }
    this.queue.push({ due: performance.now() + this.delayMs, chunk });
    this.schedule();
  }

  /** End the destination once everything queued has been delivered. */
  end(): void {
    this.closed = true;
    if (this.queue.length === 0) this.to.end();
  }

  private schedule(): void {
    if (this.scheduled) return;
    const head = this.queue[0];
    if (head === undefined) return;
    this.scheduled = true;
    const wait = head.due - performance.now();
    // Timers fire late by up to ~1 ms: use one for the bulk of a long wait, poll the rest.
    if (wait > 2) setTimeout(() => this.pump(), Math.floor(wait - 1.5));
    else setImmediate(() => this.pump());
  }

  private pump(): void {
    this.scheduled = false;
    const now = performance.now();
    let delivered = false;
    while (this.queue.length > 0 && (this.queue[0]?.due ?? Infinity) <= now) {
      const next = this.queue.shift();
      if (next === undefined) break;
      this.to.write(next.chunk);
      delivered = true;
    }
    if (delivered) this.onDeliver();
    if (this.queue.length > 0) this.schedule();
    else if (this.closed) this.to.end();
  }
}

/**
 * Start a delay proxy in front of `targetPort`.
 *
 * @example
 * ```ts
 * const proxy = await startDelayProxy({ targetPort: redis.port, oneWayDelayMs: 1 });
 * const client = new Redis({ host: '127.0.0.1', port: proxy.port });
 * // ... run a batch ...
 * console.log(proxy.counts().flights); // request flights the batch needed
 * await proxy.close();
 * ```
 */
export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const delay = options.oneWayDelayMs;
  const rtt = 2 * delay;
  let counts = zero();
  let zeroedAt = performance.now();
  const sockets = proxySockets();

  const server: Server = createServer((client) => {
    counts.connections++;
    client.setNoDelay(true);
    const upstream = connect({ host: options.targetHost ?? HOST, port: options.targetPort });
    upstream.setNoDelay(true);
    const drop = sockets.pair(client, upstream);

    // Flight detection state for this connection.
    let repliedSinceLastRequest = true;
    let lastRequestAt = -Infinity;

    const toServer = new DelayedPipe(upstream, delay, () => undefined);
    const toClient = new DelayedPipe(client, delay, () => {
      repliedSinceLastRequest = true;
    });

    client.on('data', (chunk: Buffer) => {
      const now = performance.now();
      if (repliedSinceLastRequest && now - lastRequestAt >= rtt) {
        counts.flights++;
        if (counts.flightLog.length < 100) {
          counts.flightLog.push({ at: now - zeroedAt, gapMs: now - lastRequestAt, requestBytesBefore: counts.requestBytes });
        }
      }
      repliedSinceLastRequest = false;
      lastRequestAt = now;
      counts.requestBytes += chunk.length;
      counts.requestChunks++;
      toServer.push(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      counts.responseBytes += chunk.length;
      counts.responseChunks++;
      toClient.push(chunk);
    });
    client.on('end', () => toServer.end());
    upstream.on('end', () => toClient.end());
    client.on('error', drop);
    upstream.on('error', drop);
    // A closed side is forgotten alone: the other may still be flushing a half-closed stream.
    client.on('close', () => sockets.forget(client));
    upstream.on('close', () => sockets.forget(upstream));
  });

  const port = await listenOnLoopback(server);

  return {
    port,
    counts: () => ({ ...counts, flightLog: [...counts.flightLog] }),
    reset: () => {
      counts = zero();
      zeroedAt = performance.now();
    },
    close: () => sockets.closeAll(server),
  };
}
