/**
 * Cache commands: what the pure core asks an adapter to do. Every adapter executes the same
 * commands with the same meaning, which the contract suite in `test/contract` pins down.
 *
 * One time unit crosses the adapter boundary: whole seconds (`ttlSeconds`). An adapter maps
 * it to its server's convention (Redis `EX`, Memcached relative/absolute expiry).
 *
 * @module
 */

/** Store `value` under `key`, replacing what is there. No `ttlSeconds` means no expiry. */
export interface SetCommand {
  readonly kind: 'set';
  readonly key: string;
  readonly value: string;
  readonly ttlSeconds?: number;
}

/** Remove `key`. Deleting a missing key succeeds. */
export interface DeleteCommand {
  readonly kind: 'delete';
  readonly key: string;
}

/** A typed cache command that every adapter executes. */
export type CacheCommand = SetCommand | DeleteCommand;

/**
 * Store `value` under `key` as a versioned envelope, but only if `version` is strictly newer
 * than what the key holds (a value, a tombstone or a lease floor; see `src/core/versioned.ts`).
 * A refused (older or duplicate) write is a success: the key already holds newer data.
 * `version` is a canonical decimal integer string of any length.
 */
export interface SetVersionedCommand {
  readonly kind: 'set-versioned';
  readonly key: string;
  readonly value: string;
  readonly version: string;
  readonly ttlSeconds?: number;
}

/**
 * Replace `key` with a tombstone at `version`, if that is strictly newer than what it holds (at
 * equal versions a tombstone outranks a value). The tombstone expires after
 * `tombstoneTtlSeconds`; until then older late writes and reader fills are refused.
 */
export interface DeleteVersionedCommand {
  readonly kind: 'delete-versioned';
  readonly key: string;
  readonly version: string;
  readonly tombstoneTtlSeconds: number;
}

/** Commands of the `versioned` strategy; only adapters with {@link VersionedCacheAdapter} run them. */
export type VersionedCommand = SetVersionedCommand | DeleteVersionedCommand;

/** Any command the planner produces. */
export type AnyCacheCommand = CacheCommand | VersionedCommand;

/** The kinds of {@link AnyCacheCommand}. */
export type CacheCommandKind = AnyCacheCommand['kind'];

/** The outcome of one command, in the same position as the command it answers. */
export type CommandResult = { readonly ok: true } | { readonly ok: false; readonly error: Error };

/**
 * What every cache adapter implements. The handler calls `execute` once per batch.
 *
 * Contract:
 * - `execute` returns exactly one result per command, in command order.
 * - Commands that touch the same key take effect in the order given.
 * - A command reported `{ ok: true }` has taken effect on the server. A command whose outcome
 *   is unknown (timeout, connection lost) is reported `{ ok: false }`: never guess success.
 * - `execute` may also reject (e.g. cannot connect at all); the caller treats that as every
 *   command failed.
 */
export interface CacheAdapter {
  /** Short name for logs and metrics, e.g. `memory`, `redis`, `memcached`. */
  readonly name: string;
  /** Run the commands of one batch. */
  execute(commands: readonly CacheCommand[]): Promise<CommandResult[]>;
  /** Read the raw stored string, for readers, tests and demos. */
  get(key: string): Promise<string | undefined>;
  /**
   * Read several raw stored strings at once (pipelined GETs per slot on Redis, pipelined gets on
   * Memcached): one answer per key, in key order, `undefined` for an absent key. Optional:
   * callers without it (the read-through plugin's BatchGetItem) fall back to `get` per key.
   * Rejects, like `get`, when the server does not answer; never answers part of the keys.
   */
  getMany?(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** Release connections the adapter created. Clients the user passed in are left open. */
  close(): Promise<void>;
  /** What the adapter supports beyond `set` and `delete`. Absent: nothing more. */
  readonly capabilities?: AdapterCapabilities;
}

/** Optional features of an adapter. */
export interface AdapterCapabilities {
  /** Runs {@link VersionedCommand}s and implements reader leases ({@link VersionedCacheAdapter}). */
  readonly versioned?: boolean;
}

/** What {@link VersionedCacheAdapter.lease} answers. */
export type LeaseOutcome =
  /** The caller holds the lease: load from the table, then `fill` with the same token. */
  | { readonly granted: true }
  /** Not granted; `stored` is what the key holds now (a value, or another reader's live lease). */
  | { readonly granted: false; readonly stored: string | undefined };

/** Options of {@link VersionedCacheAdapter.fill}. */
export interface FillOptions {
  /** TTL of the filled value. Omit for no expiry. */
  readonly ttlSeconds?: number;
  /** The version of the loaded data, when the loader knows it (canonical decimal). */
  readonly version?: string;
}

/**
 * An adapter that also runs versioned commands and reader leases. Each operation touches one
 * key atomically (a Lua script on Redis; see each adapter for how it gets atomicity).
 *
 * Stream writes are commands (planned, batched, pipelined with the rest of the batch); reader
 * operations are methods because they answer with data (a grant, or what the key holds).
 */
export interface VersionedCacheAdapter extends CacheAdapter {
  readonly capabilities: AdapterCapabilities & { readonly versioned: true };
  /** Run a batch that may include versioned commands. Same contract as {@link CacheAdapter.execute}. */
  execute(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]>;
  /**
   * Try to take a lease on `key` for `ttlMs`: granted when the key is absent, holds a
   * tombstone (whose version becomes the lease's floor), or holds a lease whose deadline has
   * passed. Otherwise answers what the key holds.
   */
  lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome>;
  /**
   * If `key` still holds the lease `token`, replace it with `value` (a value envelope at the
   * larger of the lease floor and `options.version`) and answer `true`. With `value`
   * `undefined`, give the lease back (restore the floor's tombstone, or remove the key).
   * Answers `false`, changing nothing, when the lease was voided by a newer write or taken over.
   */
  fill(key: string, token: string, value: string | undefined, options?: FillOptions): Promise<boolean>;
}

/**
 * True when `adapter` runs versioned commands and leases.
 *
 * @example
 * ```ts
 * if (!supportsVersioned(adapter)) throw new Error(`${adapter.name} cannot run the versioned strategy`);
 * ```
 */
export function supportsVersioned(adapter: CacheAdapter): adapter is VersionedCacheAdapter {
  return (
    adapter.capabilities?.versioned === true &&
    typeof (adapter as Partial<VersionedCacheAdapter>).lease === 'function' &&
    typeof (adapter as Partial<VersionedCacheAdapter>).fill === 'function'
  );
}
