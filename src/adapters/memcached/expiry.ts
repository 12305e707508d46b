/**
 * Conversion of `ttlSeconds` to Memcached's expiration field.
 *
 * @module
 */

/**
 * Memcached reads an expiration above 30 days (60 * 60 * 24 * 30 seconds) as an absolute UNIX
 * time, not as seconds from now. Exactly 30 days is still relative.
 */
export const MEMCACHED_MAX_RELATIVE_EXPIRY = 2_592_000;

/** The expiration field is an unsigned 32-bit integer: the latest expressible time (year 2106). */
const MAX_EXPIRATION = 0xffff_ffff;

/**
 * The expiration to send for a set, or an error message when `ttlSeconds` cannot be honoured.
 *
 * - no TTL: `0`, which Memcached reads as "never expire";
 * - up to 30 days: relative seconds, rounded up to whole seconds;
 * - over 30 days: an absolute UNIX time from the Lambda's clock (so a skew between the function's
 *   and the server's clocks shifts expiry by the same amount), capped at the largest 32-bit value.
 */
export function memcachedExpiration(ttlSeconds: number | undefined, nowMs: number): { readonly expires: number } | { readonly problem: string } {
  if (ttlSeconds === undefined) return { expires: 0 };
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    // 0 would silently mean "never expire" to Memcached, the opposite of what a caller asking
    // for a zero TTL wants.
    return { problem: `ttlSeconds must be a positive number of seconds, got ${String(ttlSeconds)}` };
  }
  const seconds = Math.ceil(ttlSeconds);
  if (seconds <= MEMCACHED_MAX_RELATIVE_EXPIRY) return { expires: seconds };
  return { expires: Math.min(Math.floor(nowMs / 1000) + seconds, MAX_EXPIRATION) };
}
