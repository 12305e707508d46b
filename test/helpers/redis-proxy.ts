/**
 * A loopback TCP proxy in front of a test server that can turn its open connections into
 * half-open ones: data stops flowing both ways but no FIN or RST is sent, as when a cache node
 * disappears from the network. New connections keep working.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Silently drop all traffic on the connections open now; later ones are unaffected. */
  readonly blackholeOpenConnections: () => void;
  readonly stop: () => Promise<void>;
}

/** Start a proxy on a free 127.0.0.1 port forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<{ frozen: boolean }>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const pair = { frozen: false };
    pairs.add(pair);
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        pairs.delete(pair);
      });
    }
    client.on('data', (chunk) => {
      if (!pair.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.frozen) client.write(chunk);
    });
    // While frozen, a close on one side is not passed on either: the peer sees nothing.
    client.on('end', () => {
      if (!pair.frozen) upstream.end();
    });
    upstream.on('end', () => {
      if (!pair.frozen) client.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('proxy has no address');
  return {
    host: '127.0.0.1',
    port: address.port,
    accepted: () => accepted,
    blackholeOpenConnections: () => {
      for (const pair of pairs) pair.frozen = true;
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
