/** What a memory adapter holds, sorted by key, for comparing two caches in model tests. */
import type { MemoryAdapter } from '../../src/adapters/memory/index.js';

/** Every key with its value and TTL, sorted by key. */
export function snapshot(cache: MemoryAdapter): Promise<[string, string | undefined, number | undefined][]> {
  return Promise.all(
    cache
      .keys()
      .sort()
      .map(async (k): Promise<[string, string | undefined, number | undefined]> => [k, await cache.get(k), cache.ttl(k)]),
  );
}
