/**
 * In-memory cache adapter: the embedded default for demos, tests and single-process use.
 *
 * @module
 */
import * as z from 'zod/mini';
import type { AnyCacheCommand, CommandResult, FillOptions, LeaseOutcome, VersionedCacheAdapter } from '../../core/commands.js';
import { deleteVersionedTransition, fillTransition, leaseTransition, setVersionedTransition, type Transition } from '../../core/versioned.js';
import { assertStrictOptions } from '../../core/strict-options.js';

const memorySchema = z.strictObject({
  now: z.optional(z.custom<() => number>((v) => typeof v === 'function', { error: 'must be a function returning milliseconds' })),
});

/** Options for {@link memoryAdapter}. */
export interface MemoryAdapterOptions {
  /** Clock in milliseconds, for TTL. Defaults to `Date.now`; tests pass a fake clock. */
  readonly now?: () => number;
}

/**
 * A cache adapter (with versioned commands and reader leases) that also lets a test or demo
 * look inside.
 */
export interface MemoryAdapter extends VersionedCacheAdapter {
  /** See `CacheAdapter.getMany`: the live values, in key order. */
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** Seconds left before `key` expires (rounded up), or `undefined` if absent or without TTL. */
  ttl(key: string): number | undefined;
  /** The live keys, in insertion order. */
  keys(): string[];
  /** Remove everything. */
  clear(): void;
}

interface Entry {
  value: string;
  /** Absolute expiry in ms, or undefined for none. */
  expiresAt: number | undefined;
}

/**
 * Create an in-memory adapter.
 *
 * @example
 * ```ts
 * const cache = memoryAdapter();
 * export const handler = createStreamHandler({ adapter: cache, rules });
 * // later, in a test: expect(await cache.get('user:42')).toBe('{"pk":"42"}')
 * ```
 */
export function memoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  assertStrictOptions('memoryAdapter', memorySchema, options);
  const now = options.now ?? Date.now;
  const store = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const entry = store.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now()) {
      store.delete(key);
      return undefined;
    }
    return entry;
  };

  const remaining = (key: string): number | undefined => {
    const expiresAt = live(key)?.expiresAt;
    return expiresAt === undefined ? undefined : expiresAt - now();
  };

  const transit = (key: string, transition: Transition): void => {
    if (transition.action === 'remove') store.delete(key);
    else if (transition.action === 'store') {
      store.set(key, { value: transition.stored, expiresAt: transition.ttlMs === undefined ? undefined : now() + transition.ttlMs });
    }
  };

  const apply = (command: AnyCacheCommand): void => {
    switch (command.kind) {
      case 'set-versioned':
        transit(command.key, setVersionedTransition(live(command.key)?.value, command.version, command.value, command.ttlSeconds));
        return;
      case 'delete-versioned':
        transit(command.key, deleteVersionedTransition(live(command.key)?.value, command.version, command.tombstoneTtlSeconds));
        return;
      case 'set':
        store.set(command.key, {
          value: command.value,
          expiresAt: command.ttlSeconds === undefined ? undefined : now() + command.ttlSeconds * 1000,
        });
        return;
      case 'delete':
        store.delete(command.key);
        return;
    }
  };

  return {
    name: 'memory',
    capabilities: { versioned: true },
    async execute(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]> {
      return commands.map((command): CommandResult => {
        try {
          apply(command);
          return { ok: true };
        } catch (error) {
          return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
        }
      });
    },
    async get(key) {
      return live(key)?.value;
    },
    async getMany(keys) {
      return keys.map((key) => live(key)?.value);
    },
    async lease(key: string, token: string, ttlMs: number): Promise<LeaseOutcome> {
      const current = live(key)?.value;
      const { granted, transition } = leaseTransition(current, remaining(key), token, ttlMs, now());
      transit(key, transition);
      return granted ? { granted: true } : { granted: false, stored: current };
    },
    async fill(key: string, token: string, value: string | undefined, options: FillOptions = {}): Promise<boolean> {
      const { filled, transition } = fillTransition(live(key)?.value, remaining(key), token, value, options.ttlSeconds, options.version);
      transit(key, transition);
      return filled;
    },
    ttl(key) {
      const entry = live(key);
      if (entry?.expiresAt === undefined) return undefined;
      return Math.ceil((entry.expiresAt - now()) / 1000);
    },
    keys() {
      return [...store.keys()].filter((key) => live(key) !== undefined);
    },
    clear() {
      store.clear();
    },
    async close() {},
  };
}
