/**
 * The monitor's verdict on one cache key, as pure functions: what the cache holds, compared
 * with what the record's rule stores and (when that is not enough) with the table's item.
 *
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import type { Codec } from '../core/rules.js';
import { compareVersions, decodeEnvelope } from '../core/versioned.js';

/**
 * Compares a cached payload with what the rule would store. `expected` is the rule's encoding
 * (its codec over its projection and `value` transform); `rule` is the rule's name. Supply one
 * when a `value` transform is not deterministic (a timestamp, a random id) or when readers fill
 * the cache with their own encoding (`invalidate` rules).
 */
export type CacheEquals = (stored: string, expected: string, rule: string) => boolean;

/** What a record's rule says a key should hold, from the monitor's point of view. */
export interface KeyExpectation {
  /** The rule's name. */
  readonly rule: string;
  /**
   * The payload the rule stores (or, for `invalidate`, a reader would fill) for the record's
   * new image at this key; `undefined` when the record removes the key (REMOVE, a changed key)
   * or the view carries no new image.
   */
  readonly recordValue: string | undefined;
  /** Versioned rules: the record's version. Absent for other rules. */
  readonly version?: string;
  /** True for a REMOVE record. */
  readonly removes: boolean;
}

/** Why a key was found stale. */
export type StaleReason =
  /** A versioned value older than the record's version. */
  | 'older-version'
  /** Neither what the rule stores for the record nor for the table's current item. */
  | 'differs-from-record-and-table';

/** The verdict before or after the table read. */
export type Verdict =
  | { readonly kind: 'consistent' }
  | { readonly kind: 'stale'; readonly reason: StaleReason }
  /** The cache alone cannot tell: read the table. */
  | { readonly kind: 'needs-table' };

const CONSISTENT: Verdict = { kind: 'consistent' };

/**
 * The payload a reader would see, or `undefined` when the key reads as a miss. Tombstones and
 * leases are misses; a value envelope yields its payload and version.
 */
export function cachedPayload(stored: string | undefined): { readonly payload: string; readonly version: string | undefined } | undefined {
  if (stored === undefined) return undefined;
  const entry = decodeEnvelope(stored);
  if (entry.kind === 'plain') return { payload: entry.payload, version: undefined };
  if (entry.kind === 'value') return { payload: entry.payload, version: entry.version };
  return undefined;
}

/**
 * The default comparison: the same string, or the same decoded value (attribute order differs
 * between a stream image and a GetItem answer, so two JSON strings of one item may differ).
 */
export function defaultEquals(codec: Codec): CacheEquals {
  return (stored, expected) => {
    if (stored === expected) return true;
    try {
      return isDeepStrictEqual(codec.decode(stored), codec.decode(expected));
    } catch {
      return false;
    }
  };
}

/**
 * Judge a key from the cache alone. A miss is consistent; a versioned value is judged by its
 * version (lower: stale; higher: newer than the record, consistent); a payload equal to what
 * the rule stores for the record is consistent. Anything else needs the table.
 *
 * @example
 * ```ts
 * judgeCached(valueEnvelope('7', '{}'), { rule: 'users', recordValue: '{}', version: '9', removes: false }, equals);
 * // { kind: 'stale', reason: 'older-version' }
 * ```
 */
export function judgeCached(stored: string | undefined, expectation: KeyExpectation, equals: CacheEquals): Verdict {
  const cached = cachedPayload(stored);
  if (cached === undefined) return CONSISTENT;
  if (expectation.version !== undefined && cached.version !== undefined) {
    const order = compareVersions(cached.version, expectation.version);
    if (order < 0) return { kind: 'stale', reason: 'older-version' };
    // At the record's own version a REMOVE outranks the value it deleted: let the table decide.
    if (order > 0 || !expectation.removes) return CONSISTENT;
  }
  if (expectation.recordValue !== undefined && equals(cached.payload, expectation.recordValue, expectation.rule)) return CONSISTENT;
  return { kind: 'needs-table' };
}

/**
 * Judge a key that {@link judgeCached} could not settle, given what the rule would store for
 * the table's current item at this key (`undefined`: the item is gone or no longer owns the key).
 */
export function judgeWithTable(stored: string | undefined, expectation: KeyExpectation, tableValue: string | undefined, equals: CacheEquals): Verdict {
  const first = judgeCached(stored, expectation, equals);
  if (first.kind !== 'needs-table') return first;
  const cached = cachedPayload(stored);
  if (cached === undefined) return CONSISTENT;
  if (tableValue !== undefined && equals(cached.payload, tableValue, expectation.rule)) return CONSISTENT;
  return { kind: 'stale', reason: 'differs-from-record-and-table' };
}

/**
 * When a record may be checked: `graceMs` after its creation. `ApproximateCreationDateTime` is
 * whole epoch seconds in DynamoDB Streams (rounded down), so a whole value counts from the end
 * of its second; the grace is never shortened by the rounding.
 */
export function dueAt(createdSeconds: number | undefined, graceMs: number, receivedAtMs: number): number {
  if (createdSeconds === undefined) return receivedAtMs + graceMs;
  const createdMs = Number.isInteger(createdSeconds) ? (createdSeconds + 1) * 1000 : createdSeconds * 1000;
  return createdMs + graceMs;
}
