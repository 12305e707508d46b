import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CacheAdapter, CacheCommand } from '../../src/core/commands.js';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { type MemcachedPool, startMemcached } from '../helpers/memcached-servers.js';

let memcached: MemcachedPool;
let adapter: CacheAdapter;

beforeAll(async () => {
  memcached = await startMemcached();
  adapter = memcachedAdapter({ servers: memcached.servers });
});
afterAll(async () => {
  await adapter?.close();
  await memcached?.stop();
});

/** Socket writes that reach the kernel (`_write` / `_writev`), counted while `run` runs. */
async function kernelWrites(run: () => Promise<unknown>): Promise<number> {
  const write = vi.spyOn(net.Socket.prototype, '_write');
  const writev = vi.spyOn(net.Socket.prototype, '_writev');
  try {
    await run();
    return write.mock.calls.length + writev.mock.calls.length;
  } finally {
    write.mockRestore();
    writev.mockRestore();
  }
}

describe('memcached adapter: one socket write per issued slice', () => {
  it('a 1,000-command batch reaches the server in at most one write per 256-command slice, not one per command', async () => {
    // Connect first: the batch under test then finds an open socket to cork.
    const warm = await adapter.execute([{ kind: 'set', key: 'cork:warm', value: 'x' }]);
    expect(warm[0]?.ok).toBe(true);
    const commands: CacheCommand[] = Array.from({ length: 1_000 }, (_, i) => ({ kind: 'set', key: `cork:${i}`, value: `v${i}` }));
    let results: Awaited<ReturnType<CacheAdapter['execute']>> = [];
    const writes = await kernelWrites(async () => {
      results = await adapter.execute(commands);
    });
    expect(results.every((result) => result.ok)).toBe(true);
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(Math.ceil(1_000 / 256));
  });
});
