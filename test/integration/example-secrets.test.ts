/**
 * The example handler reads its cache password from Secrets Manager at cold start. Inside a VPC
 * with no route to Secrets Manager (no NAT gateway, no interface endpoint), a client without
 * timeouts waits until the Lambda timeout; this one fails in seconds and says what is missing.
 * Real loopback servers stand in for the unreachable and the refusing endpoint.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readCredentials } from '../../examples/handler/index.js';
import { freePort } from '../helpers/free-port.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ddb-cache-sync-cache-AbCdEf';
const clientConfig = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret-key' },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Accepts TCP connections and never answers: a route that swallows packets looks the same. */
async function blackHole(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Answers every request as Secrets Manager answers a role without GetSecretValue. */
async function denyingEndpoint(): Promise<string> {
  const server: Server = createHttpServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'AccessDeniedException' });
      response.end(JSON.stringify({ __type: 'AccessDeniedException', Message: 'not authorized to perform: secretsmanager:GetSecretValue' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the example handler’s Secrets Manager read', () => {
  it('fails, naming the missing route, when the endpoint accepts connections and never answers (it would hang without timeouts)', async () => {
    const endpoint = await blackHole();
    await expect(readCredentials(SECRET_ARN, clientConfig(endpoint))).rejects.toThrow(
      /cannot reach Secrets Manager to read CACHE_SECRET_ARN .*NAT gateway or an interface VPC endpoint for secretsmanager/,
    );
  }, 30_000);

  it('fails, naming the missing route, when nothing listens', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    await expect(readCredentials(SECRET_ARN, clientConfig(endpoint))).rejects.toThrow(/cannot reach Secrets Manager.*CreateSecretsManagerEndpoint=true/);
  }, 30_000);

  it('passes a refusal through with its error name, not as a missing route', async () => {
    const endpoint = await denyingEndpoint();
    const error: unknown = await readCredentials(SECRET_ARN, clientConfig(endpoint)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^reading CACHE_SECRET_ARN .* from Secrets Manager failed: AccessDeniedException: /);
    expect((error as Error).message).not.toContain('NAT gateway');
  });
});
