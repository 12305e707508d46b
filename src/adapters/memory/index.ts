/**
 * In-memory cache adapter: the embedded default for demos, tests and single-process use.
 *
 * @module
 */
import type { CacheAdapter, CacheCommand, CommandResult } from '../../core/commands.js';

/** Options for {@link memoryAdapter}. */
export interface MemoryAdapterOptions {
  /** Clock in milliseconds, for TTL. Defaults to `Date.now`; tests pass a fake clock. */
  readonly now?: () => number;
}

/** A {@link CacheAdapter} that also lets a test or demo look inside. */
export interface MemoryAdapter extends CacheAdapter {
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

  const apply = (command: CacheCommand): void => {
    switch (command.kind) {
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
    async execute(commands: readonly CacheCommand[]): Promise<CommandResult[]> {
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
