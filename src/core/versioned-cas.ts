/**
 * Versioned commands and leases on a store that offers compare-and-swap but no scripting
 * (Memcached's binary protocol). Every operation is an optimistic loop on one key: read the
 * entry with its CAS token, decide with the shared transition table (`versioned.ts`), write
 * only if the entry is unchanged, and start over if it changed. Any interleaving of writers,
 * readers and retries therefore behaves as if each operation ran alone, which is what the Redis
 * scripts get from atomic execution.
 *
 * A resent write is harmless too: if a first attempt was applied but its answer lost, the
 * resend's CAS token is stale, so it conflicts, re-reads and finds nothing left to do.
 *
 * @module
 */
import { DdbCacheSyncError } from '../errors.js';
import { describeKey } from './key-hash.js';
import { deleteVersionedTransition, fillTransition, leaseTransition, setVersionedTransition, decodeEnvelope, type Transition } from './versioned.js';

/** An entry read with its compare-and-swap token. */
export interface CasEntry {
  readonly value: string;
  /** Opaque token that changes on every write of the key. */
  readonly cas: unknown;
}

/** The three primitives the loop needs, each on one key. */
export interface CasStore {
  /** Read `key` with its CAS token; `undefined` when absent. */
  gets(key: string): Promise<CasEntry | undefined>;
  /**
   * Store `value` if the key still has token `cas`; with `cas` undefined, only if the key is
   * absent (`add`). `ttlMs` undefined: no expiry. Resolves `false` on a conflict (changed, or
   * appeared, or vanished), rejects when the outcome is unknown.
   */
  put(key: string, value: string, cas: unknown, ttlMs: number | undefined): Promise<boolean>;
  /** Remove `key` if it still has token `cas`. Resolves `false` on a conflict. */
  remove(key: string, cas: unknown): Promise<boolean>;
}

/** Thrown when a key kept changing under the loop (extreme contention). */
export class CasContentionError extends DdbCacheSyncError {
  /** The key that kept changing, for application code; never part of the message (keys hold item data). */
  readonly key: string;
  constructor(key: string, attempts: number) {
    super(`${describeKey(key)} changed under ${attempts} consecutive compare-and-swap attempts; the command is reported failed so the stream retries it`);
    this.name = 'CasContentionError';
    this.key = key;
  }
}

/** Attempts before giving up on a key that keeps changing. */
export const MAX_CAS_ATTEMPTS = 64;

/** After a few conflicts, wait a random few ms so contenders stop colliding in lockstep. */
function backoff(attempt: number): Promise<void> | undefined {
  if (attempt < 3) return undefined;
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 20)));
}

/**
 * Run one decision on one key until it applies without a conflict. `decide` sees what the key
 * holds and returns the transition and a result. Returns the result of the decision that
 * applied (or that needed no write).
 */
export async function casLoop<T>(
  store: CasStore,
  key: string,
  decide: (current: string | undefined) => { readonly transition: Transition; readonly result: T },
): Promise<T> {
  for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
    const entry = await store.gets(key);
    const { transition, result } = decide(entry?.value);
    if (transition.action === 'keep') return result;
    const applied =
      transition.action === 'remove'
        ? entry === undefined || (await store.remove(key, entry.cas))
        : await store.put(key, transition.stored, entry?.cas, transition.ttlMs);
    if (applied) return result;
    await backoff(attempt);
  }
  throw new CasContentionError(key, MAX_CAS_ATTEMPTS);
}

/** How long keys that carry a floor live on a store that cannot report remaining TTLs. */
export interface CasVersionedOptions {
  /**
   * The store cannot tell a key's remaining TTL, so a lease taken on a tombstone, and a tombstone
   * restored when such a lease is given back, live this long. Use at least the longest
   * `tombstoneTtlSeconds` of your rules. Extending a tombstone only refuses more old writes: safe.
   */
  readonly floorTtlMs: number;
  /** The clock of lease deadlines, in ms. Shared by every reader of the cache. */
  readonly now: () => number;
}

/** `set-versioned` through a CAS loop. Resolves `true` when stored, `false` when refused as older. */
export function casSetVersioned(store: CasStore, key: string, version: string, value: string, ttlSeconds: number | undefined): Promise<boolean> {
  return casLoop(store, key, (current) => {
    const transition = setVersionedTransition(current, version, value, ttlSeconds);
    return { transition, result: transition.action !== 'keep' };
  });
}

/** `delete-versioned` through a CAS loop. */
export function casDeleteVersioned(store: CasStore, key: string, version: string, tombstoneTtlSeconds: number): Promise<boolean> {
  return casLoop(store, key, (current) => {
    const transition = deleteVersionedTransition(current, version, tombstoneTtlSeconds);
    return { transition, result: transition.action !== 'keep' };
  });
}

function remainingFor(current: string | undefined, leaseTtlMs: number, options: CasVersionedOptions): number | undefined {
  if (current === undefined) return undefined;
  const entry = decodeEnvelope(current);
  if (entry.kind === 'tombstone' || (entry.kind === 'lease' && entry.floor !== undefined)) return options.floorTtlMs;
  return leaseTtlMs;
}

/** A lease request through a CAS loop. */
export function casLease(
  store: CasStore,
  key: string,
  token: string,
  ttlMs: number,
  options: CasVersionedOptions,
): Promise<{ readonly granted: boolean; readonly stored: string | undefined }> {
  return casLoop(store, key, (current) => {
    const { granted, transition } = leaseTransition(current, remainingFor(current, ttlMs, options), token, ttlMs, options.now());
    return { transition, result: { granted, stored: current } };
  });
}

/** A fill (or, with `value` undefined, a lease release) through a CAS loop. */
export function casFill(
  store: CasStore,
  key: string,
  token: string,
  value: string | undefined,
  ttlSeconds: number | undefined,
  version: string | undefined,
  options: CasVersionedOptions,
): Promise<boolean> {
  return casLoop(store, key, (current) => {
    const { filled, transition } = fillTransition(current, options.floorTtlMs, token, value, ttlSeconds, version);
    return { transition, result: filled };
  });
}
