/**
 * Plumbing shared by the TCP proxies of the tests and benchmarks: they listen on a free
 * loopback port and must end every connection they still carry when closed, or a test's
 * clients would keep talking to a server the test believes gone.
 */
import type { Server, Socket } from 'node:net';

const HOST = '127.0.0.1';

/** The sockets a proxy has open. */
export interface ProxySockets {
  /** Track one proxied connection; the returned function destroys both its sockets. */
  pair(client: Socket, upstream: Socket): () => void;
  /** Forget a socket that closed on its own. */
  forget(socket: Socket): void;
  /** Destroy every socket still open, then stop `server` accepting connections. */
  closeAll(server: Server): Promise<void>;
}

export function proxySockets(): ProxySockets {
  const open = new Set<Socket>();
  return {
    pair(client, upstream) {
      open.add(client);
      open.add(upstream);
      return () => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
    },
    forget: (socket) => open.delete(socket),
    closeAll: (server) =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        open.clear();
        server.close(() => resolve());
      }),
  };
}

/** Listen on a port the OS picks on 127.0.0.1; resolves with that port. */
export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: HOST }, () => {
      const address = server.address();
      if (address !== null && typeof address === 'object') resolve(address.port);
      else reject(new Error('proxy: could not read the port the OS assigned'));
    });
  });
}
