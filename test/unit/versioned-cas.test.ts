import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { casDeleteVersioned, casFill, casLease, casSetVersioned, type CasStore } from '../../src/core/versioned-cas.js';
import { decodeEnvelope } from '../../src/core/versioned.js';

/** A CAS store whose every call yields a random number of turns, so concurrent loops interleave. */
function racyStore(rand: () => number) {
  const data = new Map<string, { value: string; cas: number }>();
  let next = 1;
  let conflicts = 0;
  const turn = async () => {
    for (let i = Math.floor(rand() * 4); i > 0; i--) await new Promise<void>((r) => setImmediate(r));
  };
  const store: CasStore = {
    async gets(key) {
      await turn();
      const e = data.get(key);
      return e && { value: e.value, cas: e.cas };
    },
    async put(key, value, cas) {
      await turn();
      const e = data.get(key);
      if (cas === undefined ? e !== undefined : e?.cas !== cas) {
        conflicts++;
        return false;
      }
      data.set(key, { value, cas: next++ });
      return true;
    },
    async remove(key, cas) {
      await turn();
      if (data.get(key)?.cas !== cas) {
        conflicts++;
        return false;
      }
      data.delete(key);
      return true;
    },
  };
  return { store, data, conflicts: () => conflicts };
}

const seeded = (seed: number) => {
  let a = seed >>> 0;
  return () => (a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 2 ** 32;
};
const opts = { floorTtlMs: 86_400_000, now: () => 1_000 };

describe('versioned operations over compare-and-swap', () => {
  it('concurrent versioned writes, in any interleaving, leave the newest', async () => {
    let sawConflict = false;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.boolean()), { minLength: 2, maxLength: 20 }), fc.integer(), async (ops, seed) => {
        const { store, data, conflicts } = racyStore(seeded(seed));
        await Promise.all(
          ops.map(([v, del]) => (del ? casDeleteVersioned(store, 'k', String(v), 60) : casSetVersioned(store, 'k', String(v), `v${v}`, undefined))),
        );
        const top = Math.max(...ops.map(([v]) => v));
        const topDeleted = ops.some(([v, d]) => v === top && d);
        expect(decodeEnvelope(data.get('k')?.value ?? '')).toMatchObject(
          topDeleted ? { kind: 'tombstone', version: String(top) } : { kind: 'value', version: String(top) },
        );
        if (conflicts() > 0) sawConflict = true;
      }),
      { numRuns: 200 },
    );
    expect(sawConflict).toBe(true); // the interleavings did race
  });

  it('a fill racing a newer stream write never wins', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.boolean(), async (seed, tombstone) => {
        const { store, data } = racyStore(seeded(seed));
        const lease = await casLease(store, 'k', 'r1', 1_000, opts);
        expect(lease.granted).toBe(true);
        const write = tombstone ? casDeleteVersioned(store, 'k', '5', 60) : casSetVersioned(store, 'k', '5', 'stream', undefined);
        const fill = casFill(store, 'k', 'r1', 'reader-old', undefined, undefined, opts);
        await Promise.all([write, fill]);
        expect(decodeEnvelope(data.get('k')?.value ?? '')).toMatchObject(
          tombstone ? { kind: 'tombstone', version: '5' } : { kind: 'value', version: '5', payload: 'stream' },
        );
      }),
      { numRuns: 300 },
    );
  });

  it('one of many concurrent lease requests is granted', async () => {
    const { store } = racyStore(seeded(3));
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => casLease(store, 'k', `t${i}`, 1_000, opts)));
    expect(outcomes.filter((o) => o.granted)).toHaveLength(1);
  });
});
