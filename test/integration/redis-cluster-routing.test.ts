import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { AnyCacheCommand } from '../../src/core/commands.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
import { keySlot, redisAdapter } from '../../src/adapters/redis/index.js';
import { useClusterWithClient } from '../helpers/redis-fixtures.js';

// ioredis routes cluster commands with this function (its dependency, not ours); the server hashes
// by the specification (keySlot). The keys below are where the two disagree.
const clientSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

type Owner = (slot: number) => number | undefined;

/** The first key `make(i)` for which ioredis and the server disagree on the slot, and `where` holds. */
function findKey(make: (i: number) => string, where: (clientNode: number | undefined, serverNode: number | undefined) => boolean, owner: Owner): string {
  for (let i = 0; i < 10_000; i++) {
    const key = make(i);
    if (clientSlot(key) !== keySlot(key) && where(owner(clientSlot(key)), owner(keySlot(key)))) return key;
  }
  throw new Error('no such key among 10,000 candidates');
}

describe('redisAdapter on a cluster, for keys ioredis routes differently from the server', () => {
  const redis = useClusterWithClient();

  it('applies and reports every command of a batch mixing such keys with ordinary keys on every node', async () => {
    const owner = await redis.cluster.slotOwners();
    const elsewhere = (clientNode: number | undefined, serverNode: number | undefined) => clientNode !== serverNode;
    const sameNode = (clientNode: number | undefined, serverNode: number | undefined) => clientNode === serverNode;
    // An empty first hash tag followed by another "}": ioredis hashes the empty string (slot 0).
    const emptyTagFar = findKey((i) => `e${i}{}}`, elsewhere, owner);
    const emptyTagNear = findKey((i) => `n${i}{}}x`, sameNode, owner);
    // A lone surrogate: ioredis hashes its CESU-8 bytes, the server the U+FFFD that goes on the wire.
    const surrogateFar = findKey((i) => `s\uD800${i}`, elsewhere, owner);
    const surrogateNear = findKey((i) => `t\uDC00${i}`, sameNode, owner);
    // A versioned write goes by SCRIPT LOAD + EVALSHA, then by EVAL when redirected.
    const versionedFar = findKey((i) => `v${i}{}}`, elsewhere, owner);
    const quirky = [emptyTagFar, emptyTagNear, surrogateFar, surrogateNear];
    const plain = Array.from({ length: 30 }, (_, i) => `plain:${i}`);
    // Every node serves some of the batch, so each quirky key shares a node group with plain keys.
    expect(new Set(plain.map((key) => owner(keySlot(key)))).size).toBe(redis.cluster.ports.length);

    const adapter = redisAdapter({ url: redis.cluster.url, cluster: true });
    try {
      for (const key of [...quirky, 'plain:0']) await redis.raw.set(key, 'old');
      const commands: AnyCacheCommand[] = [
        ...plain.slice(0, 15).map((key): AnyCacheCommand => ({ kind: 'set', key, value: `v:${key}` })),
        { kind: 'set', key: emptyTagFar, value: 'far' },
        { kind: 'delete', key: emptyTagNear },
        { kind: 'delete', key: surrogateFar },
        { kind: 'set', key: surrogateNear, value: 'near' },
        { kind: 'delete', key: 'plain:0' },
        { kind: 'set-versioned', key: versionedFar, value: 'versioned', version: '7' },
        ...plain.slice(15).map((key): AnyCacheCommand => ({ kind: 'set', key, value: `v:${key}` })),
      ];
      const results = await adapter.execute(commands);
      expect(results).toEqual(commands.map(() => ({ ok: true })));

      expect(await redis.raw.get(emptyTagFar)).toBe('far');
      expect(await redis.raw.get(emptyTagNear)).toBeNull();
      expect(await redis.raw.get(surrogateFar)).toBeNull();
      expect(await redis.raw.get(surrogateNear)).toBe('near');
      expect(await redis.raw.get('plain:0')).toBeNull();
      expect(decodeEnvelope((await redis.raw.get(versionedFar)) ?? '')).toMatchObject({ kind: 'value', payload: 'versioned' });
      for (const key of plain.slice(1)) expect(await redis.raw.get(key)).toBe(`v:${key}`);
    } finally {
      await adapter.close();
    }
  });

  it('getMany reads such a key together with an ordinary key of the same server slot', async () => {
    const owner = await redis.cluster.slotOwners();
    const far = findKey(
      (i) => `g${i}{}}`,
      (clientNode, serverNode) => clientNode !== serverNode,
      owner,
    );
    let neighbour = '';
    for (let i = 0; neighbour === '' && i < 1_000_000; i++) if (keySlot(`p${i}`) === keySlot(far)) neighbour = `p${i}`;
    expect(neighbour).not.toBe('');
    const adapter = redisAdapter({ url: redis.cluster.url, cluster: true });
    try {
      await redis.raw.set(far, 'far');
      await redis.raw.set(neighbour, 'near');
      expect(await adapter.getMany?.([neighbour, far, 'plain:absent'])).toEqual(['near', 'far', undefined]);
    } finally {
      await adapter.close();
    }
  });
});
