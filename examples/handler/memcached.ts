/**
 * Example Lambda handler for `examples/cloudformation/stack-memcached.yaml`: applies DynamoDB
 * stream records for `User` items to ElastiCache for Memcached over TLS (Memcached has no
 * authentication: see the trade-offs in docs/deploy.md).
 *
 * Environment (set by the template):
 * - `TABLE_NAME`: the table whose records the rules apply to.
 * - `MEMCACHED_CONFIG_ENDPOINT`: `host:port` of the cluster's configuration endpoint. At cold
 *   start the handler asks it for the node list (ElastiCache Auto Discovery,
 *   `config get cluster`), so it writes to every node in the cluster's order, the same list
 *   readers using Auto Discovery see.
 * - `MEMCACHED_SERVERS`: alternatively, a fixed `host:port,host:port` list (plain Memcached,
 *   local testing). Readers must use the same list in the same order.
 * - `MEMCACHED_TLS`: `true` (default) for clusters with in-transit encryption, discovery
 *   included. `false` exists for a local Memcached without TLS.
 *
 * @module
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createStreamHandler, type StreamHandlerConfig } from 'ddb-cache-sync';
import { memcachedAdapter } from 'ddb-cache-sync/memcached';
import { userRules } from './rules.js';

/**
 * Parse the reply to `config get cluster`:
 * `CONFIG cluster 0 <bytes>\r\n<version>\n<host>|<ip>|<port> ...\n\r\nEND\r\n`.
 * Returns `host:port` per node, in the order given (the order clients hash over).
 *
 * @example
 * ```ts
 * parseClusterConfig('CONFIG cluster 0 40\r\n1\na.cache|10.0.0.1|11211\n\r\nEND\r\n'); // ['a.cache:11211']
 * ```
 */
export function parseClusterConfig(reply: string): string[] {
  const lines = reply.split(/\r?\n/);
  const header = lines.findIndex((line) => line.startsWith('CONFIG cluster'));
  const nodeLine = header < 0 ? undefined : lines[header + 2];
  if (nodeLine === undefined || nodeLine.trim() === '') {
    throw new Error(`unexpected reply to "config get cluster": ${JSON.stringify(reply.slice(0, 200))}`);
  }
  return nodeLine
    .trim()
    .split(/\s+/)
    .map((node) => {
      const [host, ip, port] = node.split('|');
      const address = host !== undefined && host !== '' ? host : ip;
      if (address === undefined || address === '' || port === undefined || !/^\d+$/.test(port)) {
        throw new Error(`unexpected node ${JSON.stringify(node)} in the cluster config`);
      }
      return `${address}:${port}`;
    });
}

/**
 * Ask an ElastiCache Memcached configuration endpoint for its nodes (Auto Discovery). With
 * in-transit encryption on, the configuration endpoint speaks TLS too.
 */
export function discoverNodes(endpoint: string, options: { readonly tls: boolean; readonly timeoutMs?: number }): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const separator = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, separator);
  const port = Number(endpoint.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port)) {
    return Promise.reject(new Error(`MEMCACHED_CONFIG_ENDPOINT must be host:port, got ${JSON.stringify(endpoint)}`));
  }
  return new Promise((resolve, reject) => {
    const socket: Socket = options.tls
      ? // SNI and the certificate check need the host name; never send an IP address as SNI.
        tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}) })
      : connect({ host, port });
    let reply = '';
    const fail = (error: Error): void => {
      socket.destroy();
      reject(new Error(`Auto Discovery at ${endpoint} failed: ${error.message}. Check the security groups and subnets`, { cause: error }));
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no reply within ${timeoutMs} ms`)));
    socket.on('error', fail);
    socket.once(options.tls ? 'secureConnect' : 'connect', () => socket.write('config get cluster\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.startsWith('ERROR') || reply.includes('\r\nERROR'))
        return fail(new Error('the server does not support "config get cluster" (not an ElastiCache configuration endpoint?)'));
      if (!reply.endsWith('END\r\n')) return;
      socket.end();
      try {
        resolve(parseClusterConfig(reply));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

function tlsFlag(env: NodeJS.ProcessEnv): boolean {
  const value = env['MEMCACHED_TLS'];
  if (value === undefined || value === '') return true;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`MEMCACHED_TLS must be "true" or "false", got ${JSON.stringify(value)}`);
}

async function servers(env: NodeJS.ProcessEnv, tls: boolean): Promise<string> {
  const fixed = env['MEMCACHED_SERVERS'];
  if (fixed !== undefined && fixed !== '') return fixed;
  const endpoint = env['MEMCACHED_CONFIG_ENDPOINT'];
  if (endpoint === undefined || endpoint === '') {
    throw new Error('set MEMCACHED_CONFIG_ENDPOINT (ElastiCache) or MEMCACHED_SERVERS (host:port list); the CloudFormation template sets the first');
  }
  return (await discoverNodes(endpoint, { tls })).join(',');
}

/** The handler config: the cache nodes come from Auto Discovery (or a fixed list). */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<StreamHandlerConfig> {
  const table = env['TABLE_NAME'];
  if (table === undefined || table === '') throw new Error('TABLE_NAME is not set; the CloudFormation template sets it');
  const tls = tlsFlag(env);
  return {
    // memjs has no TLS; with `tls` the adapter carries its connections over TLS itself.
    adapter: memcachedAdapter({ servers: await servers(env, tls), tls }),
    rules: userRules(table),
  };
}

/**
 * The Lambda entry point (`index.handler` in handler-memcached.zip). Setup (discovery) runs on
 * the first invocation; if it fails the invocation fails and the next one tries again.
 */
export const handler = createStreamHandler(() => loadConfig());
