/**
 * Connection hygiene for memjs clients. memjs (checked with 1.3.2) keeps a server's reply buffer
 * across reconnects and leaves a timed-out socket attached: once a reply stream stops making
 * sense (a text-protocol error line, a frame cut off while the socket stays open, stray bytes),
 * every later reply is parsed against the leftover bytes and the server stays stuck; and the old
 * socket's late `close` event can clear the new socket, so one batch goes out over two
 * connections. {@link guardMemjsClient} fixes both on a memjs `Client`'s server objects: any
 * error memjs raises on a server, and any reply that does not start a binary-protocol frame,
 * now drops that server's socket with a reset and empties its buffer, so the next command opens
 * one fresh connection.
 *
 * @module
 */
import type { Socket } from 'node:net';

/** The fields of a memjs `Server` this module relies on. */
interface MemjsServer {
  responseBuffer: Buffer;
  requestTimeouts: unknown[];
  connected: boolean;
  _socket?: Socket | undefined;
  error(error: unknown): void;
  sock(sasl: boolean, go: (socket: Socket) => void): void;
  responseHandler(data: Buffer): void;
}

/** The binary protocol's response magic: every reply frame starts with it. */
const RESPONSE_MAGIC = 0x81;

const guarded = new WeakMap<object, (reason: string) => void>();

function isMemjsServer(value: unknown): value is MemjsServer {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<Record<keyof MemjsServer, unknown>>;
  return typeof s.error === 'function' && typeof s.sock === 'function' && typeof s.responseHandler === 'function' && Buffer.isBuffer(s.responseBuffer);
}

/** The server objects of a memjs `Client`, or `undefined` for any other client. */
function memjsServers(client: unknown): MemjsServer[] | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const { servers } = client as { servers?: unknown };
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every(isMemjsServer)) return undefined;
  return servers;
}

/** Drop every socket memjs opened for `server` with a reset, and forget what they delivered. */
function guardServer(server: MemjsServer): void {
  const sockets = new Set<Socket>();
  const originalSock = server.sock.bind(server);
  const originalError = server.error.bind(server);
  const originalHandler = server.responseHandler.bind(server);
  const wipe = () => {
    for (const socket of sockets) {
      // memjs's own listeners would append late replies to the next connection's buffer and,
      // on `close`, clear the next connection's socket.
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      socket.removeAllListeners('timeout');
      socket.on('error', () => undefined);
      socket.setTimeout(0);
      // A reset, not a FIN: the kernel discards writes never acknowledged, so none of them can
      // reach the server after the retry that replaces them.
      if (!socket.destroyed) socket.resetAndDestroy();
    }
    sockets.clear();
    server.responseBuffer = Buffer.alloc(0);
    server.connected = false;
  };
  server.sock = (sasl, go) => {
    originalSock(sasl, go);
    for (const socket of sockets) if (socket.destroyed) sockets.delete(socket);
    const socket = server._socket;
    if (socket !== undefined && !sockets.has(socket)) {
      sockets.add(socket);
      // memjs ends a socket with a FIN when a request times out (before raising the error);
      // with requests outstanding that would let the kernel deliver their writes late, after
      // the retry. A graceful close with nothing outstanding (client.close()) stays graceful.
      const end = socket.end.bind(socket);
      socket.end = ((...args: Parameters<Socket['end']>) => {
        if (server.requestTimeouts.length > 0 && !socket.destroyed) {
          socket.resetAndDestroy();
          return socket;
        }
        return end(...args);
      }) as Socket['end'];
    }
  };
  server.error = (error) => {
    wipe();
    originalError(error);
  };
  server.responseHandler = (data) => {
    const first = server.responseBuffer.length > 0 ? server.responseBuffer[0] : data[0];
    if (first !== undefined && first !== RESPONSE_MAGIC) {
      server.error(new Error('memcached reply stream lost framing (not a binary-protocol reply); connection reset'));
      return;
    }
    originalHandler(data);
    const next = server.responseBuffer[0];
    if (next !== undefined && next !== RESPONSE_MAGIC) {
      server.error(new Error('memcached reply stream lost framing (not a binary-protocol reply); connection reset'));
    }
  };
}

/**
 * Make a memjs `Client` drop a server's connection on any framing error, protocol error or
 * timeout (see the module doc). Returns a function that resets every server's connection now,
 * failing what is still outstanding on them with `reason`; for a client that is not a memjs
 * `Client`, returns `undefined` (its recovery is its own). Idempotent per client.
 */
export function guardMemjsClient(client: unknown): ((reason: string) => void) | undefined {
  if (typeof client === 'object' && client !== null) {
    const existing = guarded.get(client);
    if (existing !== undefined) return existing;
  }
  const servers = memjsServers(client);
  if (servers === undefined || typeof client !== 'object' || client === null) return undefined;
  for (const server of servers) guardServer(server);
  const resetAll = (reason: string) => {
    for (const server of servers) server.error(new Error(reason));
  };
  guarded.set(client, resetAll);
  return resetAll;
}
