/**
 * Abort a connection with a TCP reset, so writes it still holds are discarded, not delivered.
 *
 * When a batch gets no reply in time, the adapter reports its commands failed and Lambda retries
 * them, in order, on a new connection. The old connection may still hold those writes: in Node's
 * buffers, in the kernel's send queue, or sent but unacknowledged (lost in a partition, waiting
 * for retransmission). A normal close (FIN) lets the kernel keep delivering them, so once the
 * path heals they can reach the server after the retry and after newer batches and put an older
 * value back. Closing with a reset (SO_LINGER 0, Node's `socket.resetAndDestroy()`) makes the
 * client's kernel drop them and stop retransmitting.
 *
 * Node can reset only a socket whose handle is TCP; a `TLSSocket` made by `tls.connect()` wraps
 * its own TCP handle and cannot be reset (Node issue 49484). For TLS the adapter therefore opens
 * the TCP socket itself and runs TLS over it ({@link resettableTlsConnector}), keeping the TCP
 * socket to reset.
 *
 * @module
 */
import { connect as tcpConnect, Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { AbstractConnector, Cluster, Redis } from 'ioredis';

/** The TCP socket under each TLS stream the adapter's connector opened. */
const tcpUnder = new WeakMap<object, Socket>();

/** The Redis options a connector receives that it reads. */
interface ConnectorOptions {
  readonly host?: string;
  readonly port?: number;
  readonly family?: number;
  readonly tls?: ConnectionOptions;
  readonly disconnectTimeout?: number;
}

type ConnectorClass = new (options: unknown) => AbstractConnector;

/**
 * An ioredis `Connector` (a public `RedisOptions` field) that connects like ioredis's own
 * standalone connector with TLS, except that it opens the TCP socket first and hands it to
 * `tls.connect({ socket })`. TLS options, certificate and host name verification are the same;
 * the difference is that {@link abortClient} can reset the TCP socket.
 *
 * @example
 * ```ts
 * const { AbstractConnector } = await import('ioredis');
 * new Redis({ host, port, tls: {}, Connector: resettableTlsConnector(AbstractConnector) });
 * ```
 */
export function resettableTlsConnector(Base: typeof AbstractConnector): ConnectorClass {
  return class ResettableTlsConnector extends Base {
    readonly #options: ConnectorOptions;

    constructor(options: unknown) {
      const resolved = (typeof options === 'object' && options !== null ? options : {}) as ConnectorOptions;
      super(resolved.disconnectTimeout ?? 2_000);
      this.#options = resolved;
    }

    connect(): ReturnType<AbstractConnector['connect']> {
      this.connecting = true;
      const { host, port, family, tls } = this.#options;
      return new Promise((resolve, reject) => {
        // As ioredis's own connector: a disconnect() in the same tick cancels the connect.
        process.nextTick(() => {
          if (!this.connecting) {
            reject(new Error('Connection is closed.'));
            return;
          }
          try {
            // As ioredis's connector: the tls options are laid over host, port and family.
            const target: ConnectionOptions & { family?: number } = { host, port, ...(family === undefined ? {} : { family }), ...tls };
            const tcp = tcpConnect({
              host: target.host ?? 'localhost',
              port: target.port ?? 6379,
              ...(target.family === undefined ? {} : { family: target.family }),
            });
            // Node forwards the TCP socket's errors to the TLS socket, where ioredis sees them.
            tcp.on('error', () => undefined);
            const stream = tlsConnect({ ...target, socket: tcp });
            tcpUnder.set(stream, tcp);
            stream.once('error', (error: Error) => {
              this.firstError = error;
            });
            this.stream = stream;
            resolve(stream);
          } catch (error) {
            reject(error);
          }
        });
      });
    }
  };
}

/** Reset one client socket: its TCP socket under TLS, or the socket itself. */
function reset(stream: unknown): void {
  if (!(stream instanceof Socket) || stream.destroyed) return;
  // Whatever the teardown emits is of no interest: the connection is being thrown away.
  stream.on('error', () => undefined);
  const tcp = tcpUnder.get(stream) ?? stream;
  tcp.on('error', () => undefined);
  try {
    tcp.resetAndDestroy();
  } catch {
    // Not a TCP handle (a TLS socket some other connector made, a Unix socket): no reset is
    // possible, only a close.
    stream.destroy();
  }
}

/**
 * Throw away `client`: reset every socket it has (each node's on a cluster), then end the
 * client so it does not reconnect. The reset comes first: once a graceful shutdown has begun,
 * the socket can no longer be reset.
 */
export function abortClient(client: Redis | Cluster): void {
  const nodes: readonly Redis[] = client.isCluster ? (client as Cluster).nodes('all') : [client as Redis];
  for (const node of nodes) reset(node.stream);
  client.disconnect();
}
