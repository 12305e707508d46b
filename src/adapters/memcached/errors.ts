/**
 * Errors specific to the Memcached adapter.
 *
 * @module
 */
import { ValueTooLargeError } from '../../errors.js';
import { describeKey } from '../../core/key-hash.js';

/**
 * A value too large for Memcached. Still a {@link ValueTooLargeError}; `refusedBy` says whether
 * the adapter refused it before sending (over `maxValueBytes`) or the server answered "Value too
 * large" (over its item size limit `-I`). Either way the key is removed from the cache (the server
 * unlinks the old item itself; the adapter sends a delete in place of a set it refuses), so readers
 * fall back to DynamoDB instead of reading the previous, now stale, value.
 *
 * @example
 * ```ts
 * const results = await adapter.execute(commands);
 * for (const r of results) {
 *   if (!r.ok && r.error instanceof ValueTooLargeError) console.warn(r.error.key, r.error.bytes);
 * }
 * ```
 */
export class MemcachedValueTooLargeError extends ValueTooLargeError {
  /** `adapter`: over the adapter's `maxValueBytes`; `server`: the server refused it. */
  readonly refusedBy: 'adapter' | 'server';
  /** Whether the previous value of the key is known to be gone from the cache. */
  readonly removed: boolean;
  constructor(context: { key: string; bytes: number; limit: number; refusedBy: 'adapter' | 'server'; removed: boolean }, cause?: unknown) {
    super(context);
    this.refusedBy = context.refusedBy;
    this.removed = context.removed;
    if (cause !== undefined) this.cause = cause;
    const outcome = context.removed
      ? 'the key was removed from the cache'
      : 'deleting the key instead failed too, so a stale value may remain until the record is retried';
    if (context.refusedBy === 'server') {
      // The server's limit counts the whole item (value + key + about 60 bytes of header), and the
      // adapter does not know the server's -I setting, so name what to change rather than a number.
      this.message = `memcached refused the value for ${describeKey(context.key)} (${context.bytes} bytes) as larger than its item size limit (-I; value + key + ~60 bytes of item header); ${outcome}. Project fewer attributes (rule.attributes) or raise the server's max item size, and set the adapter's maxValueBytes to match`;
    } else {
      this.message = `value for ${describeKey(context.key)} is ${context.bytes} bytes, over the memcached adapter's maxValueBytes of ${context.limit}; ${outcome}. Project fewer attributes (rule.attributes), or raise the server's max item size (-I) and maxValueBytes together`;
    }
  }
}
