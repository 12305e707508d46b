/**
 * The adapter contract's cases for cache tags and cached "not found" (through the reader and
 * the planner, on the backend under test): the stored formats and round trips those features
 * rely on, run against every real server.
 *
 * @module
 */
import { supportsVersioned, type VersionedCacheAdapter } from '../core/commands.js';
import { planCommands } from '../core/plan.js';
import type { Rule } from '../core/rules.js';
import { tagKey } from '../core/tags.js';
import { createCacheReader } from '../reader/index.js';
import type { ContractTestApi } from './adapter-contract.js';

type Plain = Record<string, string>;
const s = (item: Plain) => Object.fromEntries(Object.entries(item).map(([name, value]) => [name, { S: value }]));

let sequence = 0;
/** A DynamoDB Streams record of table Orders, NEW_AND_OLD_IMAGES. */
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', oldItem: Plain | undefined, newItem: Plain | undefined): unknown {
  const keys = s({ id: (newItem ?? oldItem)?.['id'] ?? '' });
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000',
    dynamodb: {
      Keys: keys,
      ...(oldItem ? { OldImage: s(oldItem) } : {}),
      ...(newItem ? { NewImage: s(newItem) } : {}),
      SequenceNumber: String(++sequence).padStart(21, '1'),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** Registers the tag and not-found cases; `adapter()` is the harness's adapter once it exists. */
export function tagContract(vitest: ContractTestApi, adapter: () => VersionedCacheAdapter | undefined, k: (name: string) => string): void {
  const { expect, it } = vitest;
  const SKIP = 'adapter does not declare capabilities.versioned (tagged entries are filled under leases)';
  const leased = (ctx: { skip: (note?: string) => void }) => {
    const a = adapter();
    if (a && supportsVersioned(a)) return a;
    ctx.skip(SKIP);
    return undefined;
  };
  const apply = async (a: VersionedCacheAdapter, rules: Rule[], raw: unknown) => {
    const [plan] = planCommands([raw], rules);
    expect(plan?.error).toBeUndefined();
    expect(await a.execute(plan?.commands ?? [])).toEqual((plan?.commands ?? []).map(() => ({ ok: true })));
  };

  it('tags: a change of a tagged item hides entries filled under its old and new tags, including a fill that loaded before the change', async (ctx) => {
    const a = leased(ctx);
    if (!a) return;
    const tag = k('orders-of');
    const rules: Rule[] = [{ table: 'Orders', strategy: 'tags', tags: (order) => `${tag}:${String(order['customer'])}` }];
    const reader = createCacheReader({ adapter: a });
    const pageC1 = k('orders:c1');
    const pageC2 = k('orders:c2');
    const c1 = { tags: [`${tag}:c1`] };
    const c2 = { tags: [`${tag}:c2`] };
    expect(await reader.getOrLoad(pageC2, async () => ['none'], c2)).toEqual(['none']);
    // The write (o1 moves from c1 to c2) lands while the reader of c1 is loading the old page.
    const loaded = await reader.getOrLoad(
      pageC1,
      async () => {
        await apply(a, rules, record('MODIFY', { id: 'o1', customer: 'c1' }, { id: 'o1', customer: 'c2' }));
        return ['o1'];
      },
      c1,
    );
    expect(loaded).toEqual(['o1']);
    expect(await reader.get(pageC1, c1)).toBeUndefined();
    expect(await reader.get(pageC2, c2)).toBeUndefined();
    expect(await reader.getOrLoad(pageC1, async () => [], c1)).toEqual([]);
    expect(await reader.get(pageC1, c1)).toEqual([]);
    expect(await reader.get(pageC1, { tags: [`${tag}:c1`, `${tag}:other`] })).toBeUndefined();
  });

  it('tags: a tag state deleted (evicted) between writes never makes an entry filled under an older state reachable again', async (ctx) => {
    const a = leased(ctx);
    if (!a) return;
    const tags = [k('evicted')];
    const reader = createCacheReader({ adapter: a });
    const page = k('page');
    expect(await reader.getOrLoad(page, async () => 'v1', { tags, ttlSeconds: 300 })).toBe('v1');
    for (const expected of ['v2', 'v3']) {
      expect(await a.execute([{ kind: 'delete', key: tagKey(tags[0] ?? '') }])).toEqual([{ ok: true }]);
      expect(await reader.get(page, { tags })).toBeUndefined();
      expect(await reader.getOrLoad(page, async () => expected, { tags, ttlSeconds: 300 })).toBe(expected);
      expect(await reader.get(page, { tags })).toBe(expected);
    }
  });

  it('not found: a cached miss is served without loading until an INSERT of the item removes it', async (ctx) => {
    const a = leased(ctx);
    if (!a) return;
    const prefix = k('user');
    const rules: Rule[] = [{ table: 'Orders', strategy: 'invalidate', key: (item) => `${prefix}:${String(item['id'])}` }];
    const reader = createCacheReader({ adapter: a });
    const key = `${prefix}:u1`;
    let loads = 0;
    const absent = async () => {
      loads++;
      return undefined;
    };
    expect(await reader.getOrLoad(key, absent, { negativeTtlSeconds: 60 })).toBeUndefined();
    expect(await reader.getOrLoad(key, absent, { negativeTtlSeconds: 60 })).toBeUndefined();
    expect(loads).toBe(1);
    expect(await reader.get(key)).toBeUndefined();
    await apply(a, rules, record('INSERT', undefined, { id: 'u1' }));
    expect(await reader.getOrLoad(key, async () => ({ id: 'u1' }), { negativeTtlSeconds: 60 })).toEqual({ id: 'u1' });
  });

  it('not found: an INSERT that races the load voids the cached miss (plain keys, and tagged entries)', async (ctx) => {
    const a = leased(ctx);
    if (!a) return;
    const prefix = k('racing');
    const tag = k('users');
    const rules: Rule[] = [
      { table: 'Orders', strategy: 'invalidate', key: (item) => `${prefix}:${String(item['id'])}` },
      { table: 'Orders', strategy: 'tags', tags: () => tag },
    ];
    const reader = createCacheReader({ adapter: a });
    const key = `${prefix}:u2`;
    const racing = (id: string) => async () => {
      await apply(a, rules, record('INSERT', undefined, { id }));
      return undefined;
    };
    expect(await reader.getOrLoad(key, racing('u2'), { negativeTtlSeconds: 60 })).toBeUndefined();
    expect(await reader.getOrLoad(key, async () => ({ id: 'u2' }), { negativeTtlSeconds: 60 })).toEqual({ id: 'u2' });
    const search = k('search');
    expect(await reader.getOrLoad(search, racing('u3'), { tags: [tag], negativeTtlSeconds: 60 })).toBeUndefined();
    expect(await reader.getOrLoad(search, async () => ['u3'], { tags: [tag], negativeTtlSeconds: 60 })).toEqual(['u3']);
  });
}
