/**
 * Mapping of arbitrary cache keys to keys Memcached accepts.
 *
 * @module
 */
import { createHash } from 'node:crypto';

/**
 * Memcached refuses keys longer than this many bytes; {@link memcachedKey} always stays within it.
 *
 * @example
 * ```ts
 * Buffer.byteLength(memcachedKey(longKey)) <= MEMCACHED_MAX_KEY_BYTES; // true
 * ```
 */
export const MEMCACHED_MAX_KEY_BYTES = 250;

/**
 * Separates the readable prefix from the hash in a mapped key. Keys that contain it are always
 * hashed, so a key that passes through unchanged can never equal the mapped form of another key.
 * Two tildes rather than one so that keys with a single `~` (URL paths, home directories) still
 * pass through readable.
 */
const MARKER = '~~';

/** Room for the readable prefix: 250 - 2 (marker) - 43 (sha256 in base64url) = 205; keep slack. */
const PREFIX_MAX_CHARS = 200;

/** Printable ASCII without space: safe in the text and the binary protocol, and in every client library. */
const SAFE_KEY = /^[\x21-\x7e]+$/;
const UNSAFE_CHAR = /[^\x21-\x7e]/u;

/**
 * Map a cache key to a form Memcached accepts: at most 250 bytes, no spaces, no control
 * characters. The adapter applies it to every command and to `get`; an application that reads
 * the cache with its own Memcached client applies it too, so both sides meet on the same key.
 *
 * The rule, precise enough to reimplement in another language:
 * 1. A key of 1 to 250 characters, each in U+0021..U+007E (printable ASCII, no space), that does
 *    not contain `~~`, is returned unchanged.
 * 2. Any other key becomes `prefix + "~~" + hash`, where `prefix` is the first 200 code points of
 *    the key with every code point outside U+0021..U+007E replaced by `_`, and `hash` is the
 *    SHA-256 of the key's UTF-8 bytes in base64url without padding (43 characters). The result is
 *    at most 245 bytes.
 *
 * Collisions: rule-1 keys map to themselves and never contain `~~`; rule-2 keys always do, so
 * the two sets are disjoint. Two different rule-2 keys collide only if their SHA-256 digests
 * collide. One caveat: a JavaScript string that is not well-formed Unicode (a lone surrogate)
 * encodes to UTF-8 with U+FFFD in its place, so such strings can share a mapping. Keys built from
 * DynamoDB string attributes are always well-formed, since DynamoDB stores strings as UTF-8.
 *
 * @param key - Any string, e.g. the output of a rule's `key` function.
 * @returns The key to send to Memcached.
 *
 * @example
 * ```ts
 * import { memcachedKey } from 'ddb-cache-sync/memcached';
 *
 * memcachedKey('user:42');            // 'user:42' (already safe)
 * memcachedKey('user:Zoë Smith');     // 'user:Zo__Smith~~<43-char sha256>'
 *
 * // Reading in the application with your own memjs client:
 * const { value } = await client.get(memcachedKey(`user:${id}`));
 * ```
 */
export function memcachedKey(key: string): string {
  if (key.length <= MEMCACHED_MAX_KEY_BYTES && SAFE_KEY.test(key) && !key.includes(MARKER)) {
    // Every character is ASCII here, so characters and bytes count the same.
    return key;
  }
  let prefix = '';
  let count = 0;
  for (const codePoint of key) {
    if (count === PREFIX_MAX_CHARS) break;
    prefix += UNSAFE_CHAR.test(codePoint) ? '_' : codePoint;
    count++;
  }
  const hash = createHash('sha256').update(key, 'utf8').digest('base64url');
  return `${prefix}${MARKER}${hash}`;
}
