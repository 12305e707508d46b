/**
 * Runs one batch of cache commands on a Memcached client: every command issued before any
 * answer is awaited, commands of a key with a versioned command chained in batch order, and
 * every answer awaited no longer than the adapter's deadline.
 *
 * @module
 */
import { Writable } from 'node:stream';
import type { AnyCacheCommand, CacheCommand, CommandResult, VersionedCommand } from '../../core/commands.js';
import { CacheCommandError } from '../../errors.js';
import { deadline } from '../deadline.js';
import type { MemcachedClient } from './client.js';
import type { MemcachedConnection } from './connection.js';
import { MemcachedValueTooLargeError } from './errors.js';
import { memcachedExpiration } from './expiry.js';
import { memcachedKey } from './key.js';
import { defaultExpiresError, type MemcachedSettings } from './options.js';
import { describeKey } from '../../core/key-hash.js';

/** Commands issued per turn of the event loop (see {@link executeBatch}). */
const ISSUE_SLICE = 256;

/** What a batch needs besides its client and commands. */
export interface BatchContext {
  readonly settings: MemcachedSettings;
  readonly connection: MemcachedConnection;
  /** Run one versioned command (a compare-and-swap loop) on `client`. */
  readonly runVersioned: (client: MemcachedClient, command: VersionedCommand) => Promise<CommandResult>;
}

export function isVersioned(command: AnyCacheCommand): command is VersionedCommand {
  return command.kind === 'set-versioned' || command.kind === 'delete-versioned';
}

/** Call `fn`, turning a synchronous throw into a rejection. */
export function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Run one plain `set` or `delete`. */
export function runPlain(client: MemcachedClient, command: CacheCommand, context: BatchContext): Promise<CommandResult> {
  const { maxValueBytes, now } = context.settings;
  const failed = (error: unknown) => commandFailure(command, error, maxValueBytes, context.connection.transportProblem());
  const key = memcachedKey(command.key);
  if (command.kind === 'delete') {
    // memjs resolves false for a key that was not there: the delete still succeeded.
    return attempt(() => client.delete(key)).then((): CommandResult => ({ ok: true }), failed);
  }
  const bytes = Buffer.byteLength(command.value, 'utf8');
  if (bytes > maxValueBytes) {
    // Delete in the set's place, in the same position, so the old value does not outlive the
    // item that replaced it. Memcached does the same when it refuses a value itself.
    return attempt(() => client.delete(key))
      .then(
        () => true,
        () => false,
      )
      .then(
        (removed): CommandResult => ({
          ok: false,
          error: new MemcachedValueTooLargeError({ key: command.key, bytes, limit: maxValueBytes, refusedBy: 'adapter', removed }),
        }),
      );
  }
  const expiry = memcachedExpiration(command.ttlSeconds, now());
  if ('problem' in expiry) {
    return Promise.resolve({
      ok: false,
      error: new CacheCommandError(`memcached set ${describeKey(command.key)} not sent: ${expiry.problem}`, { key: command.key, command: 'set' }),
    });
  }
  const defaultExpires = client.options?.expires;
  if (expiry.expires === 0 && defaultExpires !== undefined && defaultExpires !== 0) {
    return Promise.resolve({ ok: false, error: defaultExpiresError(defaultExpires) });
  }
  return attempt(() => client.set(key, command.value, { expires: expiry.expires })).then(
    (stored): CommandResult =>
      stored === false
        ? { ok: false, error: new CacheCommandError(`memcached did not store ${describeKey(command.key)}`, { key: command.key, command: 'set' }) }
        : { ok: true },
    failed,
  );
}

/**
 * Run `commands` on `client`. A versioned command is several round trips (read,
 * compare-and-swap, maybe again), so the commands of a key that has one run one after another,
 * in batch order; other keys' run all at once.
 */
export async function executeBatch(client: MemcachedClient, commands: readonly AnyCacheCommand[], context: BatchContext): Promise<CommandResult[]> {
  if (commands.length === 0) return [];
  const pending = await issueAll(client, commands, context);
  const { deadlineMs } = context.settings;
  const { expired, cancel } = deadline(deadlineMs);
  const unanswered = (command: AnyCacheCommand | undefined): CommandResult => {
    context.connection.noAnswer(client);
    return {
      ok: false,
      error: new CacheCommandError(
        `memcached ${command?.kind ?? 'command'} ${command === undefined ? 'of a key' : describeKey(command.key)} got no answer within ${deadlineMs / 1000} s, outcome unknown; the connection was dropped or the server hangs`,
        { key: command?.key ?? '', command: command?.kind ?? 'unknown' },
      ),
    };
  };
  try {
    return await Promise.all(pending.map((result, i) => Promise.race([result, expired.then(() => unanswered(commands[i]))])));
  } finally {
    cancel();
  }
}

/**
 * Issue every command before awaiting any answer: memjs writes each request to its server's
 * connection as it is issued, so the whole batch is in flight at once. Between slices the event
 * loop runs once, so that on a slow (small) function a long issuing loop cannot starve the
 * connect callback and the replies until memjs's timers call them lost. Answers one result per
 * command, in order.
 */
async function issueAll(client: MemcachedClient, commands: readonly AnyCacheCommand[], context: BatchContext): Promise<Promise<CommandResult>[]> {
  const versionedKeys = new Set(commands.filter(isVersioned).map((command) => command.key));
  const chains = new Map<string, Promise<CommandResult>>();
  const issue = (command: AnyCacheCommand): Promise<CommandResult> => {
    if (!versionedKeys.has(command.key)) return runPlain(client, command as CacheCommand, context);
    const next = (): Promise<CommandResult> => (isVersioned(command) ? context.runVersioned(client, command) : runPlain(client, command, context));
    const previous = chains.get(command.key);
    const result = previous === undefined ? next() : previous.then(next, next);
    chains.set(command.key, result);
    return result;
  };
  const issued: Promise<CommandResult>[] = [];
  for (let start = 0; start < commands.length; start += ISSUE_SLICE) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    // Superseded versioned commands were already dropped by the handler (core/coalesce.ts).
    // memjs writes each request to the socket on its own; corked, a slice leaves as one writev.
    const sockets = connectedSockets(client);
    for (const socket of sockets) socket.cork();
    try {
      for (const command of commands.slice(start, start + ISSUE_SLICE)) issued.push(issue(command));
    } finally {
      for (const socket of sockets) socket.uncork();
    }
  }
  return issued;
}

/**
 * The sockets of a memjs client's servers that are open now (memjs keeps them on `servers[i]._socket`;
 * not public API, so anything else, e.g. a test double or a future memjs, is simply not corked).
 */
export function connectedSockets(client: unknown): Writable[] {
  const servers = (client as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(servers)) return [];
  const sockets: Writable[] = [];
  for (const server of servers) {
    const socket = (server as { _socket?: unknown } | null)?._socket;
    if (socket instanceof Writable && !socket.destroyed) sockets.push(socket);
  }
  return sockets;
}

function commandFailure(command: CacheCommand, error: unknown, maxValueBytes: number, transportProblem: string | undefined): CommandResult {
  const message = errorMessage(error);
  if (command.kind === 'set' && /value too large/i.test(message)) {
    // memcached unlinks the old item when it refuses a value as too large (checked against 1.6).
    const bytes = Buffer.byteLength(command.value, 'utf8');
    // The server's own limit is lower than maxValueBytes and unknown to the adapter.
    return { ok: false, error: new MemcachedValueTooLargeError({ key: command.key, bytes, limit: maxValueBytes, refusedBy: 'server', removed: true }, error) };
  }
  // memjs prefixes errors the server answered with "MemJS <COMMAND>:"; everything else is a
  // connection failure or timeout, after which the command may or may not have been applied.
  const answered = message.startsWith('MemJS ');
  const text = answered
    ? `memcached refused ${command.kind} ${describeKey(command.key)}: ${message}`
    : `memcached ${command.kind} ${describeKey(command.key)} failed, outcome unknown: ${message}${transportProblem === undefined ? '' : ` (TLS: ${transportProblem})`}. Check that the function reaches the servers (VPC subnets, security group, port) and that they are up`;
  return { ok: false, error: new CacheCommandError(text, { key: command.key, command: command.kind }, { cause: error }) };
}
