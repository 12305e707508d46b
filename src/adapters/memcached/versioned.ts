/**
 * Versioned commands and reader leases on Memcached: each is an optimistic compare-and-swap loop
 * on its one key (`src/core/versioned-cas.ts`), over raw binary-protocol frames sent through
 * memjs (`cas.ts`). No single-writer assumption: stream writers, retries and readers may
 * interleave freely; a write only lands if the key did not change since it was read.
 *
 * @module
 */
import type { CommandResult, FillOptions, LeaseOutcome, VersionedCommand } from '../../core/commands.js';
import { casDeleteVersioned, casFill, casLease, casSetVersioned, type CasStore } from '../../core/versioned-cas.js';
import { valueEnvelope } from '../../core/versioned.js';
import { CacheCommandError } from '../../errors.js';
import { canSendFrames, memjsCasStore, type MemjsFrameClient } from './cas.js';
import { MemcachedValueTooLargeError } from './errors.js';
import { memcachedExpiration } from './expiry.js';
import { memcachedKey } from './key.js';
import { describeKey } from '../../core/key-hash.js';

/** Default lifetime of keys that carry a floor (see `tombstoneTtlSeconds`). */
export const DEFAULT_FLOOR_TTL_SECONDS = 90_000;

export interface VersionedSettings {
  readonly now: () => number;
  readonly maxValueBytes: number;
  /** How long leases on tombstones and restored tombstones live, in seconds. */
  readonly floorTtlSeconds: number;
}

/** The versioned half of the Memcached adapter, bound to one memjs client. */
export interface VersionedMemcached {
  run(command: VersionedCommand): Promise<CommandResult>;
  lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome>;
  fill(key: string, token: string, value: string | undefined, options: FillOptions): Promise<boolean>;
}

export function versionedMemcached(client: MemjsFrameClient, settings: VersionedSettings): VersionedMemcached {
  const expirationOf = (ttlMs: number | undefined): number => {
    if (ttlMs === undefined) return 0;
    const expiry = memcachedExpiration(Math.max(1, Math.ceil(ttlMs / 1000)), settings.now());
    if ('problem' in expiry) throw new Error(expiry.problem);
    return expiry.expires;
  };
  const store: CasStore = memjsCasStore(client, memcachedKey, expirationOf);
  const casOptions = { floorTtlMs: settings.floorTtlSeconds * 1000, now: settings.now };
  const failure = (command: VersionedCommand, error: unknown): CommandResult => ({
    ok: false,
    error: new CacheCommandError(
      `memcached ${command.kind} ${describeKey(command.key)} failed, outcome unknown: ${error instanceof Error ? error.message : String(error)}`,
      { key: command.key, command: command.kind },
      { cause: error },
    ),
  });

  return {
    async run(command) {
      try {
        if (command.kind === 'delete-versioned') {
          await casDeleteVersioned(store, command.key, command.version, command.tombstoneTtlSeconds);
          return { ok: true };
        }
        const bytes = Buffer.byteLength(valueEnvelope(command.version, command.value), 'utf8');
        if (bytes > settings.maxValueBytes) {
          // A tombstone at the same version in the value's place: the old value must not outlive
          // the item that replaced it, and older writes stay refused.
          const removed = await casDeleteVersioned(store, command.key, command.version, settings.floorTtlSeconds).then(
            () => true,
            () => false,
          );
          return {
            ok: false,
            error: new MemcachedValueTooLargeError({ key: command.key, bytes, limit: settings.maxValueBytes, refusedBy: 'adapter', removed }),
          };
        }
        await casSetVersioned(store, command.key, command.version, command.value, command.ttlSeconds);
        return { ok: true };
      } catch (error) {
        return failure(command, error);
      }
    },
    async lease(key, token, ttlMs) {
      const { granted, stored } = await casLease(store, key, token, ttlMs, casOptions);
      return granted ? { granted: true } : { granted: false, stored };
    },
    fill(key, token, value, options) {
      return casFill(store, key, token, value, options.ttlSeconds, options.version, casOptions);
    },
  };
}

/**
 * The versioned operations of each client, built once per client: answers them, or why the
 * client cannot run them.
 */
export function versionedClients(settings: VersionedSettings): (client: object) => VersionedMemcached | string {
  const built = new WeakMap<object, VersionedMemcached>();
  return (client) => {
    if (!canSendFrames(client)) {
      return 'the memcached client cannot send raw binary-protocol frames (no perform), which versioned commands and leases need; pass a memjs Client or let the adapter create one';
    }
    let ops = built.get(client);
    if (ops === undefined) {
      ops = versionedMemcached(client, settings);
      built.set(client, ops);
    }
    return ops;
  };
}
