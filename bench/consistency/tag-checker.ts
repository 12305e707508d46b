/**
 * Consistency checker for query caches (tags) and cached "not found" entries: a concurrent
 * workload of table writers and readers of per-customer order lists, every write pushed through
 * the real stream handler and adapter with injected command failures and Lambda-style replay;
 * after the stream drains, every list a reader would be served is compared with the table.
 *
 * Scenarios:
 * - `naive-query`: the stream deletes the lists of the old and new customer (`invalidate`,
 *   derived keys); readers get, load, set. Shows the race tags exist to prevent.
 * - `tags+leases`: a `tags` rule; readers `getOrLoad(key, load, { tags })`. Loads read the table.
 * - `tags-gsi-lag`: as `tags+leases`, but loads read an index that applies writes `gsiLagMs`
 *   late (a GSI). Shows what the guarantee needs: consistent loads.
 * - `tags-gsi-lag+holdoff`: the same with the reader's `tagHoldOffMs` above the index lag.
 * - `negative+leases`: lookups of absent users (`negativeTtlSeconds`) while they are inserted.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { createCacheReader } from '../../src/reader/index.js';
import { prng } from '../../test/helpers/prng.js';
import { faulty } from './checker.js';

export type TagScenario = 'naive-query' | 'tags+leases' | 'tags-gsi-lag' | 'tags-gsi-lag+holdoff' | 'negative+leases';
export const TAG_SCENARIOS: readonly TagScenario[] = ['naive-query', 'tags+leases', 'tags-gsi-lag', 'tags-gsi-lag+holdoff', 'negative+leases'];

export interface TagCheckOptions {
  readonly adapter: CacheAdapter;
  readonly scenario: TagScenario;
  readonly ops: number;
  /** Distinct orders (or users, for `negative+leases`). Default 200. */
  readonly items?: number;
  /** Customers the orders move between. Default 10. */
  readonly customers?: number;
  readonly concurrency?: number;
  readonly writeRatio?: number;
  readonly failureRate?: number;
  /** How late the modelled GSI applies a write, in ms. Default 20. */
  readonly gsiLagMs?: number;
  readonly seed?: number;
}

export interface TagCheckReport {
  readonly scenario: TagScenario;
  readonly adapter: string;
  readonly ops: number;
  readonly reads: number;
  readonly writes: number;
  readonly streamRecords: number;
  readonly injectedFailures: number;
  readonly replays: number;
  /** Entries a reader would be served after the drain that differ from the table. */
  readonly stale: number;
  readonly examples: readonly { key: string; cached: unknown; table: unknown }[];
  readonly seconds: number;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Order {
  readonly id: string;
  readonly customer: string;
  readonly v: number;
}

/** Run one tag or not-found check; never throws for stale entries, it counts them. */
export async function runTagCheck(options: TagCheckOptions): Promise<TagCheckReport> {
  const started = performance.now();
  const { adapter, scenario, ops, items = 200, customers = 10, concurrency = 32, writeRatio = 0.3, failureRate = 0.02, gsiLagMs = 20, seed = 1 } = options;
  const rand = prng(seed);
  const prefix = `tc:${randomUUID().slice(0, 8)}:`;
  const counters = { injectedFailures: 0 };
  const cache = faulty(adapter, prng(seed ^ 0x2545f491), failureRate, counters);
  const negative = scenario === 'negative+leases';
  const tagOf = (customer: string) => `${prefix}orders-of:${customer}`;
  const listKey = (customer: string) => `${prefix}orders:${customer}`;
  const userKey = (id: string) => `${prefix}user:${id}`;
  const rules: Rule[] = negative
    ? [{ strategy: 'invalidate', key: (item) => userKey(String(item['id'])) }]
    : scenario === 'naive-query'
      ? [{ strategy: 'invalidate', key: (item) => listKey(String(item['customer'])) }]
      : [{ strategy: 'tags', tags: (item) => tagOf(String(item['customer'])) }];
  const processor = createStreamProcessor({ adapter: cache, rules, logger: false, metrics: false });
  const holdOff = scenario === 'tags-gsi-lag+holdoff' ? gsiLagMs * 5 : 0;
  const reader = createCacheReader({ adapter, leaseTtlMs: 200, waitMs: 20, pollMs: 1, tagHoldOffMs: holdOff });

  const table = new Map<string, Order>();
  // The modelled GSI: the same rows, each write applied gsiLagMs late.
  const index = new Map<string, Order>();
  const lagged = scenario.startsWith('tags-gsi-lag');
  let pendingIndex = 0;
  const queue: unknown[] = [];
  let streamRecords = 0;
  let sequence = 10n ** 20n;
  const image = (o: Order) => ({ id: { S: o.id }, customer: { S: o.customer }, v: { N: String(o.v) } });

  function write(id: string): void {
    const before = table.get(id);
    const v = (before?.v ?? 0) + 1;
    const removing = before !== undefined && !negative && rand() < 0.1;
    const after = removing ? undefined : { id, customer: `c${Math.floor(rand() * customers)}`, v };
    if (after) table.set(id, after);
    else table.delete(id);
    if (lagged) {
      pendingIndex++;
      setTimeout(() => {
        if (after) index.set(id, after);
        else index.delete(id);
        pendingIndex--;
      }, gsiLagMs);
    }
    sequence++;
    streamRecords++;
    queue.push({
      eventID: String(sequence),
      eventName: before ? (after ? 'MODIFY' : 'REMOVE') : 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000',
      dynamodb: {
        Keys: { id: { S: id } },
        SequenceNumber: String(sequence),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        ...(before ? { OldImage: image(before) } : {}),
        ...(after ? { NewImage: image(after) } : {}),
      },
    });
  }

  const listOf = (rows: ReadonlyMap<string, Order>, customer: string): string[] =>
    [...rows.values()]
      .filter((o) => o.customer === customer)
      .map((o) => `${o.id}@${o.v}`)
      .sort();

  // A query that takes time: the snapshot is taken now (from the table or the lagging index).
  // Now and then a query is slower than the stream: the window of the race.
  const loadTime = async () => {
    if (rand() < 0.2) await sleep(Math.floor(rand() * 20));
    else for (let i = Math.floor(rand() * 6); i > 0; i--) await tick();
  };
  async function loadList(customer: string): Promise<string[]> {
    const snapshot = listOf(lagged ? index : table, customer);
    await loadTime();
    return snapshot;
  }
  async function loadUser(id: string): Promise<Order | undefined> {
    const snapshot = table.get(id);
    await loadTime();
    return snapshot;
  }

  async function read(): Promise<void> {
    if (negative) {
      const id = `u${Math.floor(rand() * items)}`;
      await reader.getOrLoad(userKey(id), () => loadUser(id), { ttlSeconds: 300, negativeTtlSeconds: 300 });
      return;
    }
    const customer = `c${Math.floor(rand() * customers)}`;
    if (scenario !== 'naive-query') {
      await reader.getOrLoad(listKey(customer), () => loadList(customer), { tags: [tagOf(customer)], ttlSeconds: 300 });
      return;
    }
    const stored = await adapter.get(listKey(customer)).catch(() => undefined);
    if (stored !== undefined) return;
    const list = await loadList(customer);
    await adapter.execute([{ kind: 'set', key: listKey(customer), value: JSON.stringify(list), ttlSeconds: 300 }]).catch(() => undefined);
  }

  // One Lambda-style consumer: batches in order, replay from the first failed record.
  let writersDone = false;
  let position = 0;
  let replays = 0;
  async function consume(): Promise<void> {
    for (;;) {
      if (position >= queue.length) {
        if (writersDone) return;
        await tick();
        continue;
      }
      for (let i = Math.floor(rand() * 3); i > 0; i--) await tick();
      const batch = queue.slice(position, position + 1 + Math.floor(rand() * 10));
      const result = await processor.process({ Records: batch });
      const failure = result.batchItemFailures[0];
      if (failure === undefined) {
        position += batch.length;
        continue;
      }
      replays++;
      position += Math.max(
        0,
        batch.findIndex((r) => (r as { dynamodb: { SequenceNumber: string } }).dynamodb.SequenceNumber === failure.itemIdentifier),
      );
    }
  }
  const consumer = consume();

  let issued = 0;
  let reads = 0;
  let writes = 0;
  async function worker(): Promise<void> {
    while (issued < ops) {
      issued++;
      // The last fifth only reads, while the stream drains: what a late fill leaves stays.
      if (issued < ops * 0.8 && rand() < writeRatio) {
        writes++;
        write(negative ? `u${Math.floor(rand() * items)}` : `o${Math.floor(rand() * items)}`);
        await tick();
      } else {
        reads++;
        await read();
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  writersDone = true;
  await consumer;
  while (pendingIndex > 0) await sleep(gsiLagMs);

  // The check: what a reader would be served now must equal the table.
  let stale = 0;
  const examples: { key: string; cached: unknown; table: unknown }[] = [];
  const judge = (key: string, cached: unknown, expected: unknown) => {
    if (cached === undefined || JSON.stringify(cached) === JSON.stringify(expected)) return;
    stale++;
    if (examples.length < 5) examples.push({ key, cached, table: expected ?? null });
  };
  if (negative) {
    for (let i = 0; i < items; i++) {
      const id = `u${i}`;
      // A cached "not found" reads as undefined through get(); getOrLoad serves it without loading.
      let loaded = false;
      const served = await reader.getOrLoad(userKey(id), async () => {
        loaded = true;
        return undefined;
      });
      if (loaded) continue;
      const current = table.get(id);
      if (current !== undefined && served === undefined) {
        stale++;
        if (examples.length < 5) examples.push({ key: userKey(id), cached: 'not found', table: current });
      } else judge(userKey(id), served, current);
    }
  } else {
    for (let c = 0; c < customers; c++) {
      const customer = `c${c}`;
      const cached =
        scenario === 'naive-query'
          ? await adapter.get(listKey(customer)).then((s) => (s === undefined ? undefined : (JSON.parse(s) as unknown)))
          : await reader.get(listKey(customer), { tags: [tagOf(customer)] });
      judge(listKey(customer), cached, listOf(table, customer));
    }
  }
  return {
    scenario,
    adapter: adapter.name,
    ops: issued,
    reads,
    writes,
    streamRecords,
    injectedFailures: counters.injectedFailures,
    replays,
    stale,
    examples,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
