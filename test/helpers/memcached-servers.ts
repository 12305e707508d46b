/**
 * Real `memcached` processes for tests, on free loopback ports. Each node can be stopped and
 * started again on the same port (fault tests). Every process started here is killed by
 * `stop()`, and as a last resort when the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { freePort } from './free-port.js';
import { listenOnLoopback, proxySockets } from './proxy-sockets.js';
import { readFile } from 'node:fs/promises';

const HOST = '127.0.0.1';

/** Options for one memcached process. */
export interface MemcachedOptions {
  /** Item size limit in bytes (memcached `-I`; at least 1024). Default: memcached's 1 MiB. */
  readonly maxItemSize?: number;
  /** Serve TLS only (memcached `-Z`), with this certificate and key (PEM files). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** One memcached process on a fixed loopback port. */
export interface MemcachedNode {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** Kill the process; connections to it are refused until `start()`. */
  stop(): Promise<void>;
  /** Start it again on the same port (empty: memcached keeps nothing across restarts). */
  start(): Promise<void>;
  /**
   * Freeze the process (SIGSTOP): the kernel still accepts connections but nothing answers, like
   * a hung or unreachable server that still holds its data. Resolves once the kernel reports the
   * process stopped, so a request sent afterwards cannot be answered by a process still running.
   */
  pause(): Promise<void>;
  /** Let a paused process run again (SIGCONT). */
  resume(): void;
}

/** A set of memcached processes. */
export interface MemcachedPool {
  /** The memjs server string: `127.0.0.1:P1,127.0.0.1:P2,...`. */
  readonly servers: string;
  readonly nodes: readonly MemcachedNode[];
  /** Kill every process. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Wait (bounded) until /proc shows the process in the stopped state: SIGSTOP is asynchronous. */
async function stopped(child: ChildProcess, timeoutMs = 5_000): Promise<void> {
  if (child.pid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The state is the field after the parenthesised command name: T (stopped) or t (traced).
    const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => undefined);
    const state = stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (stat === undefined || state === 'T' || state === 't') return;
    if (Date.now() > deadline) throw new Error(`memcached ${child.pid} was sent SIGSTOP but is still in state ${state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // If a suite dies before afterAll, do not leave memcached behind.
  process.once('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

/** A port the OS reports free on 127.0.0.1 (the short race until memcached binds is retried). */
export const freeMemcachedPort = freePort;

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function args(port: number, options: MemcachedOptions): string[] {
  const list = ['-l', HOST, '-p', String(port), '-U', '0', '-t', '2', '-m', '64'];
  // memcached refuses to run as root unless told which user to run as.
  if (process.getuid?.() === 0) list.push('-u', 'root');
  if (options.maxItemSize !== undefined) {
    // The largest slab chunk must not exceed the item size (default chunk max: 512 KiB).
    const chunkMax = Math.min(524_288, Math.floor(options.maxItemSize / 2));
    list.push('-I', String(options.maxItemSize), '-o', `slab_chunk_max=${chunkMax}`);
  }
  if (options.tls !== undefined) {
    list.push('-Z', '-o', `ssl_chain_cert=${options.tls.certFile},ssl_key=${options.tls.keyFile}`);
  }
  return list;
}

/** Spawn memcached on `port` and wait until it accepts connections. */
async function spawnOn(port: number, options: MemcachedOptions): Promise<ChildProcess> {
  installExitHook();
  const child = spawn('memcached', args(port, options), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
    live.delete(child);
  });
  const started = Date.now();
  while (Date.now() - started < 10_000) {
    if (exited) throw new Error(`memcached on port ${port} exited at start: ${stderr.trim()}`);
    if (await canConnect(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  killGroup(child, 'SIGKILL');
  throw new Error(`memcached on port ${port} did not accept connections within 10 s: ${stderr.trim()}`);
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  // A paused process handles SIGTERM only once it runs again.
  killGroup(child, 'SIGCONT');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

async function startNode(options: MemcachedOptions): Promise<MemcachedNode> {
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freeMemcachedPort();
    try {
      child = await spawnOn(port, options);
    } catch (error) {
      // Another process may have taken the port between the probe and the bind: try another.
      if (attempt >= 3) throw error;
    }
  }
  const fixedPort = port;
  let current: ChildProcess | undefined = child;
  return {
    host: HOST,
    port: fixedPort,
    address: `${HOST}:${fixedPort}`,
    get running() {
      return current !== undefined && current.exitCode === null && current.signalCode === null;
    },
    async stop() {
      if (current === undefined) return;
      await killAndWait(current);
      current = undefined;
    },
    async start() {
      if (current !== undefined) return;
      current = await spawnOn(fixedPort, options);
    },
    async pause() {
      if (current === undefined) return;
      killGroup(current, 'SIGSTOP');
      await stopped(current);
    },
    resume() {
      if (current !== undefined) killGroup(current, 'SIGCONT');
    },
  };
}

/** Start `n` memcached processes. */
export async function startMemcachedPool(n: number, options: MemcachedOptions = {}): Promise<MemcachedPool> {
  const nodes: MemcachedNode[] = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await startNode(options));
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    servers: nodes.map((node) => node.address).join(','),
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}

/** Start one memcached process. */
export async function startMemcached(options: MemcachedOptions = {}): Promise<MemcachedPool & { readonly node: MemcachedNode }> {
  const pool = await startMemcachedPool(1, options);
  const [node] = pool.nodes;
  if (node === undefined) throw new Error('startMemcachedPool(1) returned no node');
  return { ...pool, node };
}

/**
 * Send one text-protocol command line and return the reply up to the first line that ends it
 * (`END`, `EN`, `HD`, `VA` + data, `OK`, `ERROR`, ...).
 */
export function textCommand(address: string, line: string, options: { readonly tls?: { readonly ca: string } } = {}): Promise<string> {
  const [host = HOST, portText = '11211'] = address.split(':');
  const port = Number(portText);
  return new Promise((resolve, reject) => {
    const socket: Socket = options.tls === undefined ? connect({ host, port }) : tlsConnect({ host, port, ca: options.tls.ca, servername: 'localhost' });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete reply to ${JSON.stringify(line)} from ${address}: ${JSON.stringify(reply)}`));
    }, 5_000);
    socket.once(options.tls === undefined ? 'connect' : 'secureConnect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (/(^|\r\n)(END|EN|HD[^\r]*|OK|ERROR|CLIENT_ERROR[^\r]*|SERVER_ERROR[^\r]*|NF|NS)\r\n$/.test(reply) || /^VA \d+[^\r]*\r\n[\s\S]*\r\n$/.test(reply)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply);
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Seconds left before `key` (already mapped with `memcachedKey`) expires on the server at
 * `address`, read with the meta protocol (`mg <key> t`). `undefined` for no expiry or no key.
 */
export async function memcachedTtl(address: string, key: string, options: { readonly tls?: { readonly ca: string } } = {}): Promise<number | undefined> {
  const reply = await textCommand(address, `mg ${key} t`, options);
  if (reply.startsWith('EN')) return undefined;
  const match = /^HD t(-?\d+)/.exec(reply);
  if (!match?.[1]) throw new Error(`unexpected mg reply: ${JSON.stringify(reply)}`);
  const ttl = Number(match[1]);
  return ttl === -1 ? undefined : ttl;
}

/** Whether `key` (already mapped) is stored on the server at `address`. */
export async function memcachedHas(address: string, key: string): Promise<boolean> {
  const reply = await textCommand(address, `mg ${key}`);
  return reply.startsWith('HD');
}

/** What a {@link startCountingProxy} saw. */
export interface ProxyStats {
  /** Complete binary-protocol requests received from clients. */
  requests: number;
  /** `data` events from clients: an upper bound on the TCP segments they sent, roughly their writes. */
  clientChunks: number;
  /** `data` events from the server. */
  serverChunks: number;
  /** Client connections accepted. */
  connections: number;
  /** Requests received before the first reply was passed to a client. */
  requestsBeforeFirstReply: number | undefined;
}

/**
 * A loopback TCP proxy in front of one memcached that counts what crosses it. With
 * `holdRepliesUntil: n`, it passes no reply to the client until it has received `n` complete
 * requests: a client that waits for each answer before sending the next request stalls (and
 * times out), one that sends the whole batch first does not.
 */
export async function startCountingProxy(
  upstream: MemcachedNode,
  options: { readonly holdRepliesUntil?: number } = {},
): Promise<{
  readonly address: string;
  readonly stats: ProxyStats;
  /** While on, bytes in both directions are dropped: a network partition, not a refusal. */
  partition(on: boolean): void;
  close(): Promise<void>;
}> {
  let partitioned = false;
  const stats: ProxyStats = { requests: 0, clientChunks: 0, serverChunks: 0, connections: 0, requestsBeforeFirstReply: undefined };
  const sockets = proxySockets();
  const server = createServer((client) => {
    stats.connections++;
    const upstreamSocket = connect({ host: upstream.host, port: upstream.port });
    const end = sockets.pair(client, upstreamSocket);
    let pending = Buffer.alloc(0);
    const held: Buffer[] = [];
    const released = () => stats.requests >= (options.holdRepliesUntil ?? 0);
    const flush = () => {
      if (!released()) return;
      for (const chunk of held.splice(0)) {
        stats.requestsBeforeFirstReply ??= stats.requests;
        client.write(chunk);
      }
    };
    client.on('data', (chunk: Buffer) => {
      if (partitioned) return;
      stats.clientChunks++;
      upstreamSocket.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      // Binary protocol: 24-byte header, total body length in bytes 8..11.
      while (pending.length >= 24) {
        const size = 24 + pending.readUInt32BE(8);
        if (pending.length < size) break;
        pending = pending.subarray(size);
        stats.requests++;
      }
      flush();
    });
    upstreamSocket.on('data', (chunk: Buffer) => {
      if (partitioned) return;
      stats.serverChunks++;
      held.push(chunk);
      flush();
    });
    client.on('close', end);
    client.on('error', end);
    upstreamSocket.on('close', end);
    upstreamSocket.on('error', end);
  });
  const port = await listenOnLoopback(server);
  return {
    address: `${HOST}:${port}`,
    stats,
    partition: (on) => {
      partitioned = on;
    },
    close: () => sockets.closeAll(server),
  };
}
