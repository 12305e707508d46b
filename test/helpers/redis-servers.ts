/**
 * Real `redis-server` processes for tests: standalone (optionally TLS, password, ACL users) and
 * small clusters, on free loopback ports, each in a fresh temp dir, no persistence. Every server
 * is stopped and its dir removed by `stop()`; a process-exit hook kills anything a crashed test
 * left behind.
 *
 * @example
 * ```ts
 * const redis = await startRedis({ password: 's3cret' });
 * // ... connect to redis.url with the password ...
 * await redis.stop();
 * ```
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, freePortPair } from './free-port.js';
import { createTestCertificates, type TestCertificates } from './tls-certs.js';

const execFileAsync = promisify(execFile);
const HOST = '127.0.0.1';

/** An ACL user, written as a redis.conf `user` line: `user <name> on >password <rules...>`. */
export interface AclUser {
  readonly name: string;
  readonly password: string;
  /** ACL rules, e.g. `['~app:*', '+@all']` or `['~contract:*', '-@all', '+set', '+get']`. */
  readonly rules: readonly string[];
}

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** Serve TLS only (plain port disabled), with a CA and certificate generated for the test. */
  readonly tls?: boolean;
  /** `requirepass` for the default user. */
  readonly password?: string;
  /** Extra ACL users. */
  readonly aclUsers?: readonly AclUser[];
  /** Listen on this port (e.g. to restart a stopped server where clients expect it). Default: a free one. */
  readonly port?: number;
  /** More `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  readonly args?: readonly string[];
}

/** A running standalone server. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:port` or `rediss://...` for TLS, without credentials. */
  readonly url: string;
  /** Default-user password, if one was set. */
  readonly password: string | undefined;
  /** The generated TLS material when started with `tls: true`. */
  readonly tls: TestCertificates | undefined;
  /** Run a command through `redis-cli` as the default user; resolves to its raw output. */
  readonly cli: (...args: string[]) => Promise<string>;
  /** SHUTDOWN NOSAVE (kill as fallback) and remove the temp dir. Safe to call twice. */
  readonly stop: () => Promise<void>;
}

/** A running cluster of masters (no replicas). */
export interface RedisClusterServers {
  readonly host: string;
  readonly ports: readonly number[];
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** `redis://127.0.0.1:<first port>`: any node is a valid seed. */
  readonly url: string;
  /** Run a command through `redis-cli` against the node on `port`. */
  readonly cli: (port: number, ...args: string[]) => Promise<string>;
  /** Which node port serves `slot`, according to the node on `askPort` (default: first node). */
  readonly ownerOf: (slot: number, askPort?: number) => Promise<number>;
  /** A snapshot of the slot map: slot -> port of the node serving it (per the node on `askPort`). */
  readonly slotOwners: (askPort?: number) => Promise<(slot: number) => number | undefined>;
  /** The slot a key hashes to, as the server computes it (`CLUSTER KEYSLOT`). */
  readonly keySlot: (key: string) => Promise<number>;
  /** Start moving `slot` to `toPort`: IMPORTING on the target, MIGRATING on the source. */
  readonly beginSlotMigration: (slot: number, toPort: number) => Promise<void>;
  /**
   * MIGRATE every key currently in `slot` from its owner to `toPort` (slot must be migrating),
   * `perStep` keys per MIGRATE call (default 1000; small values stretch the migration out).
   */
  readonly migrateSlotKeys: (slot: number, toPort: number, perStep?: number) => Promise<number>;
  /** Assign `slot` to `toPort` on every node, ending the migration. */
  readonly finishSlotMigration: (slot: number, toPort: number) => Promise<void>;
  /** begin + migrate keys + finish: a complete reshard of one slot. */
  readonly moveSlot: (slot: number, toPort: number) => Promise<void>;
  readonly stop: () => Promise<void>;
}

interface Running {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly exited: Promise<void>;
  readonly output: () => string;
}

const live = new Set<Running>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test crashes before afterAll: never leave redis-server running.
  process.once('exit', () => {
    for (const server of live) {
      try {
        if (server.child.pid !== undefined) process.kill(-server.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(server.dir, { recursive: true, force: true });
    }
  });
}

function spawnRedis(args: readonly string[], dir: string): Running {
  installExitHook();
  // detached: its own process group, so stop() can signal the group.
  const child = spawn('redis-server', [...args], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const running: Running = { child, dir, exited, output: () => log };
  live.add(running);
  return running;
}

async function terminate(server: Running): Promise<void> {
  const pid = server.child.pid;
  if (server.child.exitCode === null && server.child.signalCode === null && pid !== undefined) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000).unref());
    if ((await Promise.race([server.exited.then(() => 'exited' as const), timer])) === 'timeout') {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await server.exited;
    }
  }
  live.delete(server);
  await rm(server.dir, { recursive: true, force: true });
}

interface CliTarget {
  readonly port: number;
  readonly password?: string | undefined;
  readonly tls?: TestCertificates | undefined;
}

/** Run `redis-cli` against a loopback server. Resolves to stdout; rejects on a non-zero exit. */
export async function redisCli(target: CliTarget, args: readonly string[]): Promise<string> {
  const base = ['-h', HOST, '-p', String(target.port), '--no-auth-warning'];
  if (target.password !== undefined) base.push('-a', target.password);
  if (target.tls) base.push('--tls', '--cacert', target.tls.caFile);
  const { stdout } = await execFileAsync('redis-cli', [...base, ...args], { timeout: 30_000 });
  return stdout;
}

async function waitForPong(server: Running, target: CliTarget): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = '';
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) {
      throw new Error(`redis-server exited with ${server.child.exitCode}:\n${server.output()}`);
    }
    try {
      last = (await redisCli(target, ['PING'])).trim();
      if (last === 'PONG') return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${target.port} did not answer PING (last: ${last}):\n${server.output()}`);
}

function baseArgs(dir: string): string[] {
  return ['--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', '', '--daemonize', 'no'];
}

function aclArgs(users: readonly AclUser[] | undefined): string[] {
  const args: string[] = [];
  for (const user of users ?? []) args.push('--user', user.name, 'on', `>${user.password}`, ...user.rules);
  return args;
}

/**
 * Start a standalone `redis-server` on a free loopback port.
 *
 * @example
 * ```ts
 * const redis = await startRedis({ tls: true, aclUsers: [{ name: 'app', password: 'pw', rules: ['~app:*', '+@all'] }] });
 * const client = new Redis(redis.port, redis.host, { tls: { ca: redis.tls?.ca }, username: 'app', password: 'pw' });
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ddb-cache-sync-redis-'));
  let tls: TestCertificates | undefined;
  try {
    if (options.tls) tls = await createTestCertificates();
    const port = options.port ?? (await freePort());
    const args = baseArgs(dir);
    if (tls) {
      args.push(
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        tls.certFile,
        '--tls-key-file',
        tls.keyFile,
        '--tls-ca-cert-file',
        tls.caFile,
        '--tls-auth-clients',
        'no',
      );
    } else {
      args.push('--port', String(port));
    }
    if (options.password !== undefined) args.push('--requirepass', options.password);
    args.push(...aclArgs(options.aclUsers), ...(options.args ?? []));
    const server = spawnRedis(args, dir);
    const target: CliTarget = { port, password: options.password, tls };
    try {
      await waitForPong(server, target);
    } catch (error) {
      await terminate(server);
      throw error;
    }
    let stopped: Promise<void> | undefined;
    const certs = tls;
    return {
      host: HOST,
      port,
      url: `${tls ? 'rediss' : 'redis'}://${HOST}:${port}`,
      password: options.password,
      tls,
      cli: (...cliArgs) => redisCli(target, cliArgs),
      stop: () => {
        stopped ??= (async () => {
          await redisCli(target, ['SHUTDOWN', 'NOSAVE']).catch(() => undefined);
          await terminate(server);
          await certs?.cleanup();
        })();
        return stopped;
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    await tls?.cleanup();
    throw error;
  }
}

/** Parse `CLUSTER NODES` into id, port and owned slot ranges per node. */
function parseClusterNodes(text: string): { id: string; port: number; ranges: [number, number][] }[] {
  const nodes: { id: string; port: number; ranges: [number, number][] }[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    const id = parts[0];
    const address = parts[1];
    if (id === undefined || address === undefined || id === '') continue;
    const port = Number(address.split('@')[0]?.split(':')[1]);
    const ranges: [number, number][] = [];
    for (const token of parts.slice(8)) {
      if (token.startsWith('[')) continue; // migrating/importing markers
      const [from, to] = token.split('-');
      if (from === undefined) continue;
      ranges.push([Number(from), Number(to ?? from)]);
    }
    nodes.push({ id, port, ranges });
  }
  return nodes;
}

/**
 * Start a Redis Cluster of `nodes` masters (no replicas) on free loopback ports, created with
 * `redis-cli --cluster create`, and wait until every node reports `cluster_state:ok` and agrees
 * on the slot map.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster({ nodes: 3 });
 * const client = new Cluster(cluster.nodes);
 * ```
 */
export async function startRedisCluster(options: { nodes?: number } = {}): Promise<RedisClusterServers> {
  const count = options.nodes ?? 3;
  if (count < 3) throw new Error('Redis Cluster needs at least 3 masters');
  const servers: Running[] = [];
  const ports: number[] = [];
  const taken = new Set<number>();
  const stopAll = async () => {
    await Promise.all(ports.map((port) => redisCli({ port }, ['SHUTDOWN', 'NOSAVE']).catch(() => undefined)));
    await Promise.all(servers.map((server) => terminate(server)));
  };
  try {
    for (let i = 0; i < count; i++) {
      // The cluster bus listens on port + 10000; both must be free and distinct from siblings.
      const port = await freePortPair(10_000, taken);
      taken.add(port).add(port + 10_000);
      const dir = await mkdtemp(join(tmpdir(), 'ddb-cache-sync-redis-cluster-'));
      const args = [
        ...baseArgs(dir),
        '--port',
        String(port),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        '5000',
      ];
      const server = spawnRedis(args, dir);
      servers.push(server);
      ports.push(port);
    }
    await Promise.all(servers.map((server, i) => waitForPong(server, { port: ports[i] ?? 0 })));
    await execFileAsync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `${HOST}:${port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 60_000,
    });
    await waitForClusterOk(ports);
  } catch (error) {
    await stopAll();
    throw error;
  }

  const cli = (port: number, ...args: string[]) => redisCli({ port }, args);
  const first = ports[0] ?? 0;
  const nodesOf = async (askPort = first) => parseClusterNodes(await cli(askPort, 'CLUSTER', 'NODES'));
  const ownerOf = async (slot: number, askPort = first) => {
    const owner = (await nodesOf(askPort)).find((node) => node.ranges.some(([a, b]) => slot >= a && slot <= b));
    if (!owner) throw new Error(`no node serves slot ${slot}`);
    return owner.port;
  };
  const idOf = async (port: number) => (await cli(port, 'CLUSTER', 'MYID')).trim();

  const beginSlotMigration = async (slot: number, toPort: number) => {
    const fromPort = await ownerOf(slot);
    if (fromPort === toPort) throw new Error(`slot ${slot} is already on ${toPort}`);
    const [fromId, toId] = await Promise.all([idOf(fromPort), idOf(toPort)]);
    // Order per the Redis Cluster spec: IMPORTING on the target first, then MIGRATING on the source.
    await cli(toPort, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
    await cli(fromPort, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
  };
  const migrateSlotKeys = async (slot: number, toPort: number, perStep = 1000) => {
    const fromPort = await ownerOf(slot);
    let moved = 0;
    for (;;) {
      const keys = (await cli(fromPort, 'CLUSTER', 'GETKEYSINSLOT', String(slot), String(perStep))).split('\n').filter((key) => key !== '');
      if (keys.length === 0) return moved;
      const reply = await cli(fromPort, 'MIGRATE', HOST, String(toPort), '', '0', '5000', 'KEYS', ...keys);
      if (!reply.includes('OK')) throw new Error(`MIGRATE failed: ${reply}`);
      moved += keys.length;
    }
  };
  const finishSlotMigration = async (slot: number, toPort: number) => {
    const toId = await idOf(toPort);
    // Target first, then the source, then everyone else, as redis-cli --cluster reshard does.
    const order = [toPort, await ownerOf(slot), ...ports].filter((port, i, all) => all.indexOf(port) === i);
    for (const port of order) await cli(port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
    await waitForClusterOk(ports, (text) => ownerInText(text, slot) === toPort);
  };

  let stopped: Promise<void> | undefined;
  return {
    host: HOST,
    ports,
    nodes: ports.map((port) => ({ host: HOST, port })),
    url: `redis://${HOST}:${first}`,
    cli,
    ownerOf,
    slotOwners: async (askPort = first) => {
      const text = await cli(askPort, 'CLUSTER', 'NODES');
      return (slot: number) => ownerInText(text, slot);
    },
    keySlot: async (key) => Number((await cli(first, 'CLUSTER', 'KEYSLOT', key)).trim()),
    beginSlotMigration,
    migrateSlotKeys,
    finishSlotMigration,
    moveSlot: async (slot, toPort) => {
      await beginSlotMigration(slot, toPort);
      await migrateSlotKeys(slot, toPort);
      await finishSlotMigration(slot, toPort);
    },
    stop: () => {
      stopped ??= stopAll();
      return stopped;
    },
  };
}

function ownerInText(clusterNodes: string, slot: number): number | undefined {
  return parseClusterNodes(clusterNodes).find((node) => node.ranges.some(([a, b]) => slot >= a && slot <= b))?.port;
}

async function waitForClusterOk(ports: readonly number[], agree?: (clusterNodes: string) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    const views = await Promise.all(
      ports.map(async (port) => {
        const info = await redisCli({ port }, ['CLUSTER', 'INFO']).catch((error: unknown) => String(error));
        const nodes = await redisCli({ port }, ['CLUSTER', 'NODES']).catch(() => '');
        return { info, nodes };
      }),
    );
    const ok = views.every(
      ({ info, nodes }) => info.includes('cluster_state:ok') && info.includes('cluster_slots_assigned:16384') && (agree === undefined || agree(nodes)),
    );
    if (ok) return;
    last = views.map((view) => view.info.split('\n').slice(0, 3).join(' ')).join(' | ');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`cluster did not reach cluster_state:ok on all nodes: ${last}`);
}
