/**
 * The one way the library names a cache key in a log line or an error message: a hash, never
 * the key. Keys are built from item data (an email, a phone number), and messages travel to
 * loggers the library does not control (`onCacheError`, the application's own `catch`).
 *
 * @module
 */
import { createHash, createHmac } from 'node:crypto';

/**
 * Environment variable holding an optional salt. Set it (the same on every function and
 * reader) when keys are guessable enough that an unsalted hash could be reversed by trying
 * candidates, e.g. `user-by-email:` followed by addresses from a leaked list.
 */
export const KEY_HASH_SALT_ENV = 'DDB_CACHE_SYNC_KEY_HASH_SALT';

/**
 * First 16 hex digits of the key's SHA-256 (HMAC-SHA-256 keyed by the salt when
 * `DDB_CACHE_SYNC_KEY_HASH_SALT` is set). Deterministic across Lambda instances and readers,
 * so one key's log lines correlate everywhere.
 *
 * @example
 * ```ts
 * keyHash('user-by-email:ann@example.com'); // '5d3f…' (16 hex digits)
 * ```
 */
export function keyHash(key: string, salt: string | undefined = process.env[KEY_HASH_SALT_ENV]): string {
  const hash = salt === undefined || salt === '' ? createHash('sha256') : createHmac('sha256', salt);
  return hash.update(key).digest('hex').slice(0, 16);
}

/** A key as messages show it: `key#<keyHash>`. */
export function describeKey(key: string): string {
  return `key#${keyHash(key)}`;
}

/**
 * A value as messages show it: its type and length, never its content (`string of 12
 * characters`, `array of 3`).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `string of ${value.length} characters`;
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (value === null) return 'null';
  return typeof value;
}
