/**
 * Free loopback ports for test servers. The OS picks the port (listen on 0), so two suites never
 * guess the same number; the small window between closing the probe and the server binding is
 * the accepted race of this technique.
 */
import { createServer } from 'node:net';

const HOST = '127.0.0.1';

/** Resolve `true` when `port` can be bound on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** A port the OS reports free on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port the OS assigned'));
      });
    });
  });
}

/**
 * A free port `p` such that `p + offset` is free too. Redis Cluster listens on its client port
 * and on a cluster bus port at client port + 10000, and both must be bindable.
 */
export async function freePortPair(offset = 10_000, exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = await freePort();
    const partner = port + offset;
    if (partner > 65_535 || exclude.has(port) || exclude.has(partner)) continue;
    if (await isPortFree(partner)) return port;
  }
  throw new Error(`no free port p with p+${offset} also free after 200 attempts`);
}
