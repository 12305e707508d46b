/**
 * Versioned cache entries: the stored envelope, version comparison, and the single decision
 * rule every backend applies ("is this write strictly newer than what the key holds?").
 *
 * A versioned key holds one of three envelopes (see `docs/consistency.md` for the byte format):
 *
 * - a **value**: the encoded item, tagged with the version it came from;
 * - a **tombstone**: the key was deleted at a version, so an older late write is refused;
 * - a **lease**: a reader is loading the key from the table; a newer stream write voids it.
 *
 * Plain (non-versioned) keys hold the codec's output unchanged. Pure: no I/O.
 *
 * @module
 */

/** First character of every envelope. Codec output must never start with it. */
export const ENVELOPE_MARK = '\u001e';
/** Separates the header fields of an envelope from each other and from the payload. */
export const ENVELOPE_SEPARATOR = '\u001f';

/**
 * The payload of a value envelope that caches "not found" (a reader's `negativeTtlSeconds`).
 * Codec output never starts with {@link ENVELOPE_MARK}, so no item can be mistaken for it.
 */
export const NOT_FOUND_PAYLOAD = `${ENVELOPE_MARK}n`;

/** A decoded stored string. */
export type Envelope =
  /** A cached value. `version` is undefined for a reader fill that knew no version. */
  | { readonly kind: 'value'; readonly version: string | undefined; readonly payload: string }
  /** The key was deleted (or invalidated) at `version`. */
  | { readonly kind: 'tombstone'; readonly version: string }
  /**
   * A reader holds a lease to fill the key. `floor` is the version of the tombstone it
   * replaced (writes at or below it stay refused); `deadlineMs` is when another reader may take
   * the lease over (the adapter's clock); `token` names the holder.
   */
  | { readonly kind: 'lease'; readonly floor: string | undefined; readonly deadlineMs: number; readonly token: string }
  /** A plain (non-versioned) value, stored by a non-versioned rule or another writer. */
  | { readonly kind: 'plain'; readonly payload: string };

const CANONICAL = /^(0|[1-9]\d{0,127})$/;

/** True when `version` is a canonical decimal integer (no sign, no leading zeros, ≤ 128 digits). */
export function isCanonicalVersion(version: string): boolean {
  return CANONICAL.test(version);
}

/**
 * Canonical form of a version: a non-negative decimal integer string without leading zeros,
 * or `undefined` when `text` is not one. Versions are compared as integers of any size;
 * they never pass through a JS number (a 21-digit sequence number would lose digits).
 */
export function canonicalVersion(text: string): string | undefined {
  if (!/^\d{1,128}$/.test(text)) return undefined;
  const trimmed = text.replace(/^0+(?=\d)/, '');
  return trimmed;
}

/** Compare two canonical versions: negative, zero or positive, as integers. */
export function compareVersions(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Encode a value envelope. */
export function valueEnvelope(version: string | undefined, payload: string): string {
  return `${ENVELOPE_MARK}v${version ?? ''}${ENVELOPE_SEPARATOR}${payload}`;
}

/** Encode a tombstone envelope. */
export function tombstoneEnvelope(version: string): string {
  return `${ENVELOPE_MARK}t${version}${ENVELOPE_SEPARATOR}`;
}

/** Encode a lease envelope. */
export function leaseEnvelope(floor: string | undefined, deadlineMs: number, token: string): string {
  return `${ENVELOPE_MARK}l${floor ?? ''}${ENVELOPE_SEPARATOR}${Math.floor(deadlineMs)}${ENVELOPE_SEPARATOR}${token}`;
}

/**
 * Decode a stored string. Anything that does not start with U+001E (`ENVELOPE_MARK`), or that is
 * not a well-formed envelope, is a `plain` value (so a damaged envelope is never mistaken for
 * a version and never blocks a newer write).
 *
 * @example
 * ```ts
 * const stored = await adapter.get('user:42');
 * const entry = stored === undefined ? undefined : decodeEnvelope(stored);
 * if (entry?.kind === 'value') console.log(entry.version, JSON.parse(entry.payload));
 * ```
 */
export function decodeEnvelope(stored: string): Envelope {
  if (!stored.startsWith(ENVELOPE_MARK) || stored.length < 3) return { kind: 'plain', payload: stored };
  const kind = stored[1];
  const sep = stored.indexOf(ENVELOPE_SEPARATOR, 2);
  if (sep < 0) return { kind: 'plain', payload: stored };
  const version = stored.slice(2, sep);
  const rest = stored.slice(sep + 1);
  const versioned = version === '' ? undefined : isCanonicalVersion(version) ? version : null;
  if (versioned === null) return { kind: 'plain', payload: stored };
  switch (kind) {
    case 'v':
      return { kind: 'value', version: versioned, payload: rest };
    case 't':
      if (versioned === undefined || rest !== '') return { kind: 'plain', payload: stored };
      return { kind: 'tombstone', version: versioned };
    case 'l': {
      const sep2 = rest.indexOf(ENVELOPE_SEPARATOR);
      const deadline = sep2 < 0 ? NaN : Number(rest.slice(0, sep2));
      if (!Number.isSafeInteger(deadline)) return { kind: 'plain', payload: stored };
      return { kind: 'lease', floor: versioned, deadlineMs: deadline, token: rest.slice(sep2 + 1) };
    }
    default:
      return { kind: 'plain', payload: stored };
  }
}

/**
 * A point in a key's history. At one version a delete outranks a value (`rank` 1 vs 0): a
 * REMOVE whose version is the deleted item's own version must beat that item's value.
 */
export interface VersionStamp {
  readonly version: string;
  readonly rank: 0 | 1;
}

/** The stamp a stored envelope holds, or `undefined` when it holds none (anything beats it). */
export function stampOf(entry: Envelope | undefined): VersionStamp | undefined {
  if (entry === undefined) return undefined;
  switch (entry.kind) {
    case 'value':
      return entry.version === undefined ? undefined : { version: entry.version, rank: 0 };
    case 'tombstone':
      return { version: entry.version, rank: 1 };
    case 'lease':
      return entry.floor === undefined ? undefined : { version: entry.floor, rank: 1 };
    case 'plain':
      return undefined;
  }
}

/** The stamp a versioned write carries: its version, ranked as a delete or a value. */
export function writeStamp(kind: 'set-versioned' | 'delete-versioned', version: string): VersionStamp {
  return { version, rank: kind === 'delete-versioned' ? 1 : 0 };
}

/** Order two stamps: negative, zero or positive; by version, then a delete above a value. */
export function compareStamps(a: VersionStamp, b: VersionStamp): number {
  return compareVersions(a.version, b.version) || a.rank - b.rank;
}

/** True when `candidate` is strictly newer than what `stored` holds. */
export function isNewer(candidate: VersionStamp, stored: string | undefined): boolean {
  const current = stampOf(stored === undefined ? undefined : decodeEnvelope(stored));
  return current === undefined || compareStamps(candidate, current) > 0;
}

/** Larger of two optional canonical versions. */
export function maxVersion(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}

/**
 * What one versioned operation does to one key, given what it holds. Backends that decide in
 * the client use these: memory directly, Memcached inside a compare-and-swap loop
 * (`versioned-cas.ts`), so concurrent writers and readers are safe there too. The Redis
 * scripts implement the same table on the server.
 */
export type Transition =
  /** Leave the key as it is. */
  | { readonly action: 'keep' }
  /** Store `stored`; `ttlMs` undefined means no expiry. */
  | { readonly action: 'store'; readonly stored: string; readonly ttlMs: number | undefined }
  /** Remove the key. */
  | { readonly action: 'remove' };

const KEEP: Transition = { action: 'keep' };

/** The transition for a `set-versioned` of `value` at `version`. */
export function setVersionedTransition(current: string | undefined, version: string, value: string, ttlSeconds: number | undefined): Transition {
  if (!isNewer(writeStamp('set-versioned', version), current)) return KEEP;
  return { action: 'store', stored: valueEnvelope(version, value), ttlMs: ttlSeconds === undefined ? undefined : ttlSeconds * 1000 };
}

/** The transition for a `delete-versioned` at `version`. */
export function deleteVersionedTransition(current: string | undefined, version: string, tombstoneTtlSeconds: number): Transition {
  if (!isNewer(writeStamp('delete-versioned', version), current)) return KEEP;
  return { action: 'store', stored: tombstoneEnvelope(version), ttlMs: tombstoneTtlSeconds * 1000 };
}

/**
 * The transition for a lease request. `remainingMs` is the key's remaining TTL (undefined: no
 * expiry or absent). A tombstone's TTL is kept when it is longer than the lease, so the floor
 * outlives an abandoned lease.
 */
export function leaseTransition(
  current: string | undefined,
  remainingMs: number | undefined,
  token: string,
  ttlMs: number,
  nowMs: number,
): { readonly granted: boolean; readonly transition: Transition } {
  const entry = current === undefined ? undefined : decodeEnvelope(current);
  let floor: string | undefined;
  if (entry === undefined) floor = undefined;
  else if (entry.kind === 'tombstone') floor = entry.version;
  else if (entry.kind === 'lease' && entry.deadlineMs <= nowMs) floor = entry.floor;
  else return { granted: false, transition: KEEP };
  const keyTtl = entry === undefined || remainingMs === undefined ? ttlMs : Math.max(remainingMs, ttlMs);
  return { granted: true, transition: { action: 'store', stored: leaseEnvelope(floor, nowMs + ttlMs, token), ttlMs: keyTtl } };
}

/** The transition for a fill (or, with `value` undefined, a lease release). */
export function fillTransition(
  current: string | undefined,
  remainingMs: number | undefined,
  token: string,
  value: string | undefined,
  ttlSeconds: number | undefined,
  version: string | undefined,
): { readonly filled: boolean; readonly transition: Transition } {
  const entry = current === undefined ? undefined : decodeEnvelope(current);
  if (entry?.kind !== 'lease' || entry.token !== token) return { filled: false, transition: KEEP };
  if (value === undefined) {
    if (entry.floor === undefined) return { filled: true, transition: { action: 'remove' } };
    return { filled: true, transition: { action: 'store', stored: tombstoneEnvelope(entry.floor), ttlMs: remainingMs } };
  }
  return {
    filled: true,
    transition: {
      action: 'store',
      stored: valueEnvelope(maxVersion(entry.floor, version), value),
      ttlMs: ttlSeconds === undefined ? undefined : ttlSeconds * 1000,
    },
  };
}
