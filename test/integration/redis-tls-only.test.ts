/**
 * A rediss:// url speaks TLS from the first byte, whatever else the options say: a listener on
 * loopback records what the adapter sends and must see a TLS handshake record, never a Redis
 * command or the password in the clear.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisAdapter, type RedisUrlAdapterOptions } from '../../src/adapters/redis/index.js';

/** TLS record type 22: handshake (the ClientHello). */
const TLS_HANDSHAKE = 0x16;
const PASSWORD = 'pw-in-the-clear-0c7d';

let server: Server;
let port = 0;
let received: Buffer[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it.each<[string, Omit<RedisUrlAdapterOptions, 'url'>]>([
  ['no other options', {}],
  ['other client options', { clientOptions: { connectionName: 'x', enableAutoPipelining: false } }],
  ['cluster with node options', { cluster: true, clientOptions: { redisOptions: { keepAlive: 1_000 } } }],
  ['tls: undefined', { tls: undefined }],
])('rediss:// with %s sends a TLS handshake first and nothing in the clear', async (_, options) => {
  received = [];
  const adapter = redisAdapter({ url: `rediss://app:${PASSWORD}@127.0.0.1:${port}`, connectTimeoutMs: 300, ...options });
  try {
    // The listener never answers the handshake, so the batch fails; what matters is what was sent.
    expect((await adapter.execute([{ kind: 'set', key: 'k', value: 'sent in the clear' }]))[0]?.ok).toBe(false);
  } finally {
    await adapter.close();
  }
  const bytes = Buffer.concat(received);
  expect(bytes.length).toBeGreaterThan(0);
  expect(bytes[0]).toBe(TLS_HANDSHAKE);
  for (const text of ['sent in the clear', PASSWORD, 'AUTH', 'HELLO', 'SET']) expect(bytes.includes(text)).toBe(false);
});

it('control: redis:// sends the password in the clear, which the check above would see', async () => {
  received = [];
  const adapter = redisAdapter({ url: `redis://app:${PASSWORD}@127.0.0.1:${port}`, connectTimeoutMs: 300 });
  try {
    await adapter.execute([{ kind: 'set', key: 'k', value: 'v' }]);
  } finally {
    await adapter.close();
  }
  expect(Buffer.concat(received).includes(PASSWORD)).toBe(true);
});
