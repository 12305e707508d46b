/**
 * TLS for memjs, which only speaks plain TCP: a listener on 127.0.0.1 inside the function,
 * one per server, that carries each connection memjs opens over its own TLS connection to the
 * server. memjs, its hashing and its timeouts stay as they are; only the address it dials changes.
 *
 * @module
 */
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';

/** Binary protocol NOOP: no effect on the server, answered with an empty response. */
const NOOP = 0x0a;
/** Marks the tunnel's own NOOPs; memjs never sends NOOP, so their answers are recognised and dropped. */
const NUDGE_OPAQUE = 0xffff_fff0;
/** How long answers may pause while requests are outstanding before the tunnel nudges the server. */
const NUDGE_AFTER_MS = 50;

function nudgeFrame(): Buffer {
  const frame = Buffer.alloc(24);
  frame.writeUInt8(0x80, 0);
  frame.writeUInt8(NOOP, 1);
  frame.writeUInt32BE(NUDGE_OPAQUE, 12);
  return frame;
}

/**
 * Walks binary-protocol frames (24-byte header, body length in bytes 8..11) as they stream by,
 * without buffering bodies. `onFrame` sees each header and says whether to keep the frame.
 */
function frameWalker(onFrame: (header: Buffer) => boolean): {
  walk: (chunk: Buffer) => Buffer[];
  /** True between frames: nothing may be inserted into the stream anywhere else. */
  atBoundary: () => boolean;
} {
  let header: Buffer = Buffer.alloc(0);
  let bodyLeft = 0;
  let keep = true;
  const walk = (chunk: Buffer): Buffer[] => {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, chunk.length - pos);
        if (keep) out.push(chunk.subarray(pos, pos + n));
        bodyLeft -= n;
        pos += n;
        continue;
      }
      const take = chunk.subarray(pos, pos + 24 - header.length);
      header = header.length === 0 ? take : Buffer.concat([header, take]);
      pos += take.length;
      if (header.length === 24) {
        keep = onFrame(header);
        if (keep) out.push(header);
        bodyLeft = header.readUInt32BE(8);
        header = Buffer.alloc(0);
      }
    }
    return out;
  };
  return { walk, atBoundary: () => header.length === 0 && bodyLeft === 0 };
}

/** A running tunnel to one server. */
export interface TlsTunnel {
  /** `127.0.0.1:PORT`: what memjs dials instead of the server. */
  readonly address: string;
  /** The last TLS or network error towards the server, for error messages. */
  readonly lastError: () => Error | undefined;
  /** Stop listening and cut every connection. */
  close(): Promise<void>;
}

/**
 * Open a tunnel to `host:port`. Every failure on the TLS side (refused, handshake or
 * certificate error, reset, clean close) resets the local connection, so memjs sees an error and
 * fails the commands outstanding on it at once; a clean close would leave them unanswered.
 */
export async function openTlsTunnel(host: string, port: number, tlsOptions: ConnectionOptions, connectTimeoutMs: number): Promise<TlsTunnel> {
  let lastError: Error | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((local) => {
    sockets.add(local);
    const remote = tlsConnect({
      host,
      port,
      // SNI must be a host name, never an IP address.
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...tlsOptions,
    });
    sockets.add(remote);
    let finished = false;
    const finish = (error?: Error): void => {
      if (finished) return;
      finished = true;
      if (error !== undefined) lastError = error;
      clearTimeout(handshakeTimer);
      clearInterval(nudger);
      sockets.delete(local);
      sockets.delete(remote);
      remote.destroy();
      // A reset, not a FIN: memjs only fails outstanding requests when its socket errors.
      if (!local.destroyed) local.resetAndDestroy();
    };
    // memcached 1.6 (checked: 1.6.18) can stall a TLS connection that receives a long pipeline:
    // it waits for the socket to become readable while the rest of the requests sit decrypted
    // in its TLS buffer. Any further input wakes it, so while answers are due and none arrive,
    // the tunnel sends a NOOP and drops its answer. memjs never sees either.
    let requests = 0;
    let answers = 0;
    let lastAnswerAt = Date.now();
    const countRequests = frameWalker(() => {
      requests++;
      return true;
    });
    const stripNudges = frameWalker((header) => {
      if (header.readUInt8(1) === NOOP && header.readUInt32BE(12) === NUDGE_OPAQUE) return false;
      answers++;
      return true;
    });
    const nudger = setInterval(() => {
      // Only between two requests: a NOOP inside a request memjs is still sending would corrupt it.
      if (answers < requests && Date.now() - lastAnswerAt >= NUDGE_AFTER_MS && countRequests.atBoundary()) {
        remote.write(nudgeFrame());
      }
    }, NUDGE_AFTER_MS);
    nudger.unref();
    const handshakeTimer = setTimeout(
      () => finish(new Error(`TLS connection to ${host}:${port} not established within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    remote.once('secureConnect', () => {
      clearTimeout(handshakeTimer);
      lastError = undefined;
    });
    // Writes before the handshake completes are buffered by the TLS socket, in order.
    local.on('data', (chunk: Buffer) => {
      countRequests.walk(chunk);
      if (!remote.write(chunk)) local.pause();
    });
    remote.on('drain', () => local.resume());
    local.on('end', () => remote.end());
    remote.on('data', (chunk: Buffer) => {
      lastAnswerAt = Date.now();
      const kept = stripNudges.walk(chunk);
      if (kept.length > 0 && !local.write(Buffer.concat(kept))) remote.pause();
    });
    local.on('drain', () => remote.resume());
    remote.on('error', (error: Error) => finish(error));
    remote.on('close', () => finish());
    local.on('error', () => finish());
    local.on('close', () => finish());
  });
  // The tunnel must never keep a function's process (or a test run) alive by itself.
  server.unref();
  const localPort = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      if (address !== null && typeof address === 'object') resolve(address.port);
      else reject(new Error('could not read the TLS tunnel port'));
    });
  });
  return {
    address: `127.0.0.1:${localPort}`,
    lastError: () => lastError,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
}
