/**
 * A loopback TCP proxy for fault tests: put it between a client and a real server, then cut,
 * refuse, black-hole or re-point connections to reproduce what a deployment sees: the cache
 * going down mid-batch, restarting, a NAT or Hyperplane ENI silently forgetting an idle
 * connection while a Lambda environment is frozen, a network partition.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ host: '127.0.0.1', port: redis.port });
 * const adapter = redisAdapter({ url: `redis://127.0.0.1:${proxy.port}` });
 * proxy.cutAfterClientBytes(10_000); // the connection dies mid-pipeline
 * ```
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

const HOST = '127.0.0.1';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Bytes from this pair's client are dropped and nothing is answered. */
  blackholed: boolean;
  /** While black-holed: answer the client's next bytes with a TCP RST (a NAT that forgot the flow). */
  resetOnData: boolean;
  /** Client bytes held back (a partition that will heal), delivered by `releaseHeld()`. */
  held: Buffer[] | undefined;
  /** Server bytes are dropped from now on; the connection stays open (after a reply fault). */
  deaf: boolean;
}

/**
 * What a server's reply stream can turn into: `error-line`, a text-protocol error line (what
 * memcached writes when it runs out of connections) and then silence; `cut-frame`, a reply cut
 * off inside its header and then silence; `garbage`, stray bytes before the real replies;
 * `stall`, no more replies. The connection stays open in every case.
 */
export type ReplyFault = 'error-line' | 'cut-frame' | 'garbage' | 'stall';

/** The line memcached writes before closing a connection it cannot serve (conn limit reached). */
export const MEMCACHED_ERROR_LINE = 'ERROR Too many open connections\r\n';

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far (a reconnect shows up as a new one). */
  readonly accepted: () => number;
  /** Connections currently open. */
  readonly open: () => number;
  /** Bytes received from clients (all connections). */
  readonly clientBytes: () => number;
  /** Client bytes held back by `holdOpen()` and not yet released or dropped. */
  readonly heldBytes: () => number;
  /** Client sockets that have closed so far (normal close or reset): the proxy saw the client go. */
  readonly clientsClosed: () => number;
  /** Send new connections to another upstream port (a restarted or replaced server). */
  setUpstream(port: number): void;
  /** While on, new connections are accepted and closed at once (nothing listens behind). */
  refuse(on: boolean): void;
  /** Destroy every open connection now (server crash or restart: the client sees a reset). */
  cutAll(): void;
  /**
   * Once `bytes` more client bytes have passed, drop further client bytes and, `graceMs` later
   * (replies to what got through still reach the client meanwhile), destroy every connection:
   * the server dies mid-batch.
   */
  cutAfterClientBytes(bytes: number, graceMs?: number): void;
  /**
   * Silently drop everything on the connections open now, in both directions, without closing
   * them: the client believes it is connected. New connections work. With `reset`, the first
   * bytes the client sends afterwards get a TCP RST instead (what a NAT that forgot the flow
   * does), else they vanish (what a Hyperplane ENI or a partition does).
   */
  blackholeOpen(options?: { reset?: boolean }): void;
  /**
   * Hold back client bytes on the connections open now (a partition): the server gets nothing
   * and answers nothing. If the client gives up and closes, the server side stays open, as the
   * client's kernel keeps retransmitting the data it already accepted. New connections work.
   */
  holdOpen(): void;
  /**
   * The next reply chunk any server sends (on any connection) meets `fault`; later connections
   * are untouched. Resolves once the fault has been applied.
   */
  replyFault(fault: ReplyFault): Promise<void>;
  /**
   * The partition heals: deliver everything held, in order, then close what the client closed.
   * Resolves once the server has acted on the delivery: it answered (client still connected) or
   * it closed the connection after reading the rest (client gone). Rejects after `timeoutMs`.
   */
  releaseHeld(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Start a proxy on a free loopback port in front of `upstream`.
 */
export async function startFaultProxy(upstream: { host: string; port: number }): Promise<FaultProxy> {
  let upstreamPort = upstream.port;
  let refusing = false;
  let accepted = 0;
  let clientBytes = 0;
  let clientsClosed = 0;
  let cutAt: number | undefined;
  let cutting = false;
  let cutGraceMs = 0;
  let armed: { fault: ReplyFault; applied: () => void } | undefined;
  const pairs = new Set<Pair>();

  /** Apply the armed reply fault to `chunk` from `pair`'s server: what the client gets instead. */
  const applyReplyFault = (pair: Pair, chunk: Buffer, fault: ReplyFault): Buffer => {
    switch (fault) {
      case 'error-line':
        pair.deaf = true;
        return Buffer.from(MEMCACHED_ERROR_LINE, 'latin1');
      case 'cut-frame':
        pair.deaf = true;
        // 13 bytes: inside the first reply's 24-byte header, whatever the chunk holds.
        return chunk.subarray(0, Math.min(13, chunk.length - 1));
      case 'garbage':
        // Deterministic bytes that cannot start a binary-protocol reply (magic 0x81).
        return Buffer.concat([Buffer.from([0x00, 0x13, 0x37, 0xfe, 0x7f, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x0a, 0x0d, 0x20, 0x41]), chunk]);
      case 'stall':
        pair.deaf = true;
        return Buffer.alloc(0);
    }
  };

  const destroyPair = (pair: Pair) => {
    // resetAndDestroy sends RST: the client learns at once, as when a server process dies.
    pair.client.resetAndDestroy();
    pair.upstream.destroy();
    pairs.delete(pair);
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstreamSocket = connect({ host: upstream.host, port: upstreamPort });
    const pair: Pair = { client, upstream: upstreamSocket, blackholed: false, resetOnData: false, held: undefined, deaf: false };
    pairs.add(pair);
    client.setNoDelay(true);
    upstreamSocket.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      if (pair.blackholed) {
        if (pair.resetOnData) destroyPair(pair);
        return;
      }
      if (cutting) return;
      if (pair.held) {
        pair.held.push(chunk);
        return;
      }
      const before = clientBytes;
      clientBytes += chunk.length;
      if (cutAt !== undefined && clientBytes >= cutAt) {
        const keep = cutAt - before;
        cutAt = undefined;
        // Forward exactly up to the cut, so the server sees a truncated pipeline, then die.
        upstreamSocket.write(chunk.subarray(0, keep));
        // Later client bytes are lost; replies to what got through still flow back for a
        // moment, then every connection dies: a partial batch, as when a server crashes.
        cutting = true;
        setTimeout(() => {
          cutting = false;
          for (const p of [...pairs]) destroyPair(p);
        }, cutGraceMs);
        return;
      }
      upstreamSocket.write(chunk);
    });
    upstreamSocket.on('data', (chunk: Buffer) => {
      if (pair.blackholed || pair.held || pair.deaf) return;
      if (armed !== undefined) {
        const { fault, applied } = armed;
        armed = undefined;
        const sent = applyReplyFault(pair, chunk, fault);
        if (sent.length > 0) client.write(sent);
        applied();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      if (!pairs.has(pair)) return;
      if (pair.held && !upstreamSocket.destroyed) return; // delivered on release
      pairs.delete(pair);
      client.destroy();
      upstreamSocket.destroy();
    };
    client.on('close', () => {
      clientsClosed++;
      end();
    });
    upstreamSocket.on('close', end);
    client.on('error', (error: NodeJS.ErrnoException) => {
      // A client that aborts with a reset (SO_LINGER 0) makes its kernel discard what the
      // partition held back: nothing arrives late.
      if (error.code === 'ECONNRESET' && pair.held) {
        pair.held = undefined;
        pairs.delete(pair);
        upstreamSocket.destroy();
      }
    });
    upstreamSocket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('proxy has no port');

  return {
    host: HOST,
    port: address.port,
    accepted: () => accepted,
    open: () => pairs.size,
    clientBytes: () => clientBytes,
    heldBytes: () => [...pairs].reduce((sum, pair) => sum + (pair.held ?? []).reduce((n, chunk) => n + chunk.length, 0), 0),
    clientsClosed: () => clientsClosed,
    setUpstream(port) {
      upstreamPort = port;
    },
    refuse(on) {
      refusing = on;
    },
    cutAll() {
      for (const pair of [...pairs]) destroyPair(pair);
    },
    cutAfterClientBytes(bytes, graceMs = 200) {
      cutAt = clientBytes + bytes;
      cutGraceMs = graceMs;
    },
    blackholeOpen(options = {}) {
      for (const pair of pairs) {
        pair.blackholed = true;
        pair.resetOnData = options.reset === true;
      }
    },
    holdOpen() {
      for (const pair of pairs) pair.held = [];
    },
    replyFault(fault) {
      return new Promise<void>((resolve) => {
        armed = { fault, applied: resolve };
      });
    },
    async releaseHeld(timeoutMs = 5_000) {
      const deliveries: Promise<void>[] = [];
      for (const pair of [...pairs]) {
        const held = pair.held;
        if (held === undefined) continue;
        pair.held = undefined;
        const clientGone = pair.client.destroyed;
        if (held.length === 0 && !clientGone) continue; // nothing was sent during the partition
        const upstreamSocket = pair.upstream;
        // The server has acted on what it got once it answers, or, for a client that is gone,
        // once it closes the connection: it reads the FIN only after the bytes before it.
        const acted = new Promise<void>((resolve) => {
          if (clientGone) upstreamSocket.once('close', () => resolve());
          else upstreamSocket.once('data', () => resolve());
        });
        upstreamSocket.write(Buffer.concat(held), () => {
          if (clientGone) {
            upstreamSocket.end();
            pairs.delete(pair);
          }
        });
        deliveries.push(acted);
      }
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`fault proxy: the server neither answered nor closed within ${timeoutMs} ms of the held bytes' delivery`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([Promise.all(deliveries), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      for (const pair of [...pairs]) destroyPair(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
