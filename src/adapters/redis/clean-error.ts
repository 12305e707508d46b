/**
 * Errors from the Redis client, reduced to what is safe to print.
 *
 * ioredis attaches to each error reply the command it answered, `command: { name, args }`. For
 * a refused `HELLO`/`AUTH` the args hold the password; for a refused `SET` or script, the cached
 * value (item data). `console.log(error)` and `util.inspect` print every own property of an
 * error and of its causes, so an error carrying them would print secrets even though its
 * message is clean. The adapter therefore never hands out a client error as is: it copies it
 * into a plain `Error` holding only what is listed below.
 *
 * @module
 */
import { DdbCacheSyncError } from '../../errors.js';

/** How many nested causes are copied; deeper ones are dropped. */
const MAX_DEPTH = 4;

function nested(error: Error): unknown {
  // ioredis's ClusterAllFailedError names the node error behind it `lastNodeError`.
  const last: unknown = (error as Error & { lastNodeError?: unknown }).lastNodeError;
  return last instanceof Error ? last : error.cause;
}

function messageOf(error: Error): string {
  if (error.message !== '' || !(error instanceof AggregateError)) return error.message;
  // Node's connect with several addresses (IPv4 and IPv6) fails with an AggregateError whose
  // own message is empty; its parts name the addresses and the reasons.
  return error.errors.map((part: unknown) => (part instanceof Error ? part.message : String(part))).join('; ');
}

/**
 * A copy of `value` with only its name, message, `code` (e.g. `ECONNREFUSED`), stack and the
 * same copy of its cause: never the command, its arguments or any other property a client
 * attached. The library's own errors are returned as they are (their causes were cleaned when
 * they were built).
 *
 * @example
 * ```ts
 * const safe = cleanError(replyError); // { name: 'ReplyError', message: 'WRONGPASS ...' }
 * ```
 */
export function cleanError(value: unknown, depth = 0): Error {
  if (value instanceof DdbCacheSyncError) return value;
  if (!(value instanceof Error)) return new Error(typeof value === 'string' ? value : `non-error value thrown: ${typeof value}`);
  const inner = nested(value);
  const cause = inner instanceof Error && depth < MAX_DEPTH ? cleanError(inner, depth + 1) : undefined;
  const copy = cause === undefined ? new Error(messageOf(value)) : new Error(messageOf(value), { cause });
  // `name` decides how the adapter reads the error (ReplyError: the server answered). Not
  // enumerable, as on the prototype, so inspecting the copy shows it once, in its first line.
  Object.defineProperty(copy, 'name', { value: value.name, writable: true, configurable: true, enumerable: false });
  // The stack is the message line plus frames: nothing the client attached. Kept for debugging.
  if (value.stack !== undefined) copy.stack = value.stack;
  const code: unknown = (value as Error & { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') Object.assign(copy, { code });
  return copy;
}
