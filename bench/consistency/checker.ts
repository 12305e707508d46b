/**
 * Consistency checker, in the spirit of Meta's Polaris and Uber's Cache Inspector: run a
 * concurrent workload of table writers and cache-aside readers, push every table write through
 * the real stream handler and a real adapter with injected delays, duplicate deliveries,
 * partial failures with Lambda-style replay, and (for the Kinesis path) reordering; then, after
 * the stream drains and every reader has finished, compare each cache entry with the table and
 * count the stale ones.
 *
 * The table is an in-process model (a Map with per-item versions), so a run of millions of
 * operations takes seconds; what is under test is the stream handler, the adapter and the
 * reader, which are the real ones.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { supportsVersioned, type AnyCacheCommand, type CacheAdapter, type CacheCommand, type CommandResult } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { decodeEnvelope, valueEnvelope } from '../../src/core/versioned.js';
import { createStreamProcessor, type StreamProcessor } from '../../src/lambda/handler.js';
import { createKinesisStreamProcessor } from '../../src/lambda/kinesis.js';
import { createCacheReader, type CacheReader } from '../../src/reader/index.js';
import { prng } from '../../test/helpers/prng.js';

/** What is being checked: a stream strategy and a read path. */
export type Scenario =
  /** The classic blog Lambda: plain delete on change; readers get, load, set. */
  | 'naive-invalidate'
  /** Plain set/delete on change; readers get, load, set. */
  | 'naive-write-through'
  /** Plain delete on change; readers fill through leases. */
  | 'invalidate+leases'
  /** Versioned write-through (SequenceNumber); readers fill through leases. */
  | 'versioned+leases'
  /** Versioned tombstones (SequenceNumber), readers fill through leases. */
  | 'versioned-tombstone+leases'
  /** Versioned write-through by the item's own version attribute; readers fill through leases. */
  | 'versioned-attribute+leases'
  /** Kinesis source (reordered, duplicated), versioned by attribute; readers fill through leases. */
  | 'kinesis-versioned+leases'
  /** Kinesis source (reordered, duplicated), plain write-through as if records were ordered; naive readers. */
  | 'kinesis-naive-write-through';

export const SCENARIOS: readonly Scenario[] = [
  'naive-invalidate',
  'naive-write-through',
  'kinesis-naive-write-through',
  'invalidate+leases',
  'versioned+leases',
  'versioned-tombstone+leases',
  'versioned-attribute+leases',
  'kinesis-versioned+leases',
];

export interface CheckOptions {
  readonly adapter: CacheAdapter;
  readonly scenario: Scenario;
  /** Total operations (table writes + reads). */
  readonly ops: number;
  /** Distinct items. Few items mean many races per item. Default 500. */
  readonly items?: number;
  /** Concurrent workers issuing operations. Default 64. */
  readonly concurrency?: number;
  /** Share of operations that write the table. Default 0.25. */
  readonly writeRatio?: number;
  /** Stream shards (one consumer each; an item always maps to one shard). Default 4. */
  readonly shards?: number;
  /**
   * Lambda's ParallelizationFactor: batches of one shard in flight at once. Records of one
   * partition key stay in order (each key maps to one of the shard's lanes), records of
   * different keys in the shard do not. Default 1.
   */
  readonly parallelization?: number;
  /**
   * Cache keys shared across items: each item belongs to one of this many groups (attribute
   * `g`, which a write sometimes changes) and a second rule writes `grp:<g>`, the group's most
   * recently written member. 0 (default) means no shared keys.
   */
  readonly sharedKeys?: number;
  /** Records per Lambda batch. Default 25. */
  readonly batchSize?: number;
  /** Chance that one cache command fails (half of them after applying). Default 0.02. */
  readonly failureRate?: number;
  /** Chance that a processed batch is delivered again (at-least-once). Default 0.05. */
  readonly duplicateRate?: number;
  /** Kinesis only: how far back (in records) a record may be delivered early. Default 8. */
  readonly reorderWindow?: number;
  /** Random seed. */
  readonly seed?: number;
  /** Key prefix, so runs on a shared server do not see each other. */
  readonly prefix?: string;
  /** Plant one stale entry before checking (to show the checker catches it). */
  readonly plantStale?: boolean;
  /** Progress callback, every ~5% of operations. */
  readonly onProgress?: (done: number) => void;
  /** Runs after the stream drained (and a stale entry was planted), before the check: the monitor hook. */
  readonly afterDrain?: (run: DrainedRun) => Promise<unknown>;
}

/** What {@link CheckOptions.afterDrain} sees: every delivered stream record, per shard in order, and the table. */
export interface DrainedRun {
  readonly adapter: CacheAdapter;
  readonly rules: readonly Rule[];
  readonly kinesis: boolean;
  readonly shards: readonly (readonly unknown[])[];
  readonly table: ReadonlyMap<string, { readonly pk: string; readonly v: number; readonly n: number }>;
}

export interface CheckReport {
  readonly scenario: Scenario;
  readonly adapter: string;
  readonly ops: number;
  readonly reads: number;
  readonly writes: number;
  readonly hits: number;
  readonly streamRecords: number;
  readonly deliveries: number;
  readonly injectedFailures: number;
  readonly replays: number;
  readonly duplicateBatches: number;
  readonly items: number;
  /** Cache entries that differ from the table after the stream drained. */
  readonly stale: number;
  /**
   * Shared keys (`grp:<g>`) whose cached value is not what the last stream record for that
   * key, in stream order, leaves (a miss is not stale). 0 when `sharedKeys` is 0.
   */
  readonly sharedStale: number;
  /**
   * Reads served from the cache with data older than a write the stream had already applied
   * before the read began: stale reads observed while the workload ran (the final `stale` count
   * only sees what is left at the end).
   */
  readonly staleReads: number;
  /** Reader cache calls that failed (timeouts on a loaded machine); those reads went to the table. */
  readonly cacheErrors: number;
  /** Up to 5 stale keys with what the cache and the table hold. */
  readonly examples: readonly { key: string; cached: unknown; table: unknown }[];
  readonly seconds: number;
  /** Time spent issuing operations, and then draining the stream backlog. */
  readonly phases: { readonly opsSeconds: number; readonly drainSeconds: number };
  /** What `afterDrain` answered (the monitor's counts). */
  readonly monitor?: unknown;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

interface TableItem {
  readonly pk: string;
  readonly v: number;
  readonly n: number;
  /** Group, when the run has shared keys. */
  readonly g?: number;
}

type AV = { S: string } | { N: string };
const image = (item: TableItem): Record<string, AV> => ({
  pk: { S: item.pk },
  v: { N: String(item.v) },
  n: { N: String(item.n) },
  ...(item.g === undefined ? {} : { g: { N: String(item.g) } }),
});

/**
 * Faults between the handler and the adapter: a share `rate` of commands fail, half of them lost
 * and half applied but reported failed (the reply was lost). Reader operations pass through.
 */
export function faulty(inner: CacheAdapter, rand: () => number, rate: number, counters: { injectedFailures: number }): CacheAdapter {
  const execute = async (commands: readonly AnyCacheCommand[]): Promise<CommandResult[]> => {
    const fate = commands.map(() => {
      const r = rand();
      return r < rate / 2 ? 'lost' : r < rate ? 'applied-unacknowledged' : 'ok';
    });
    const sent = commands.filter((_, i) => fate[i] !== 'lost');
    const plain = sent.filter((c): c is CacheCommand => c.kind === 'set' || c.kind === 'delete');
    const results = sent.length === 0 ? [] : supportsVersioned(inner) ? await inner.execute(sent) : await inner.execute(plain);
    let j = 0;
    return commands.map((_, i): CommandResult => {
      if (fate[i] === 'lost') {
        counters.injectedFailures++;
        return { ok: false, error: new Error('injected: command lost') };
      }
      const result = results[j++] ?? { ok: false, error: new Error('no result') };
      if (fate[i] === 'applied-unacknowledged' && result.ok) {
        counters.injectedFailures++;
        return { ok: false, error: new Error('injected: applied, reply lost') };
      }
      return result;
    });
  };
  return Object.assign(Object.create(inner) as CacheAdapter, { name: inner.name, execute });
}

function rulesFor(scenario: Scenario, prefix: string, shared: boolean): Rule[] {
  const own = primaryRules(scenario, (i) => `${prefix}${String(i['pk'])}`);
  if (!shared) return own;
  return [...own, ...primaryRules(scenario, (i) => `${prefix}grp:${String(i['g'])}`)];
}

function primaryRules(scenario: Scenario, key: (item: Record<string, unknown>) => string): Rule[] {
  switch (scenario) {
    case 'naive-invalidate':
    case 'invalidate+leases':
      return [{ key, strategy: 'invalidate' }];
    case 'naive-write-through':
    case 'kinesis-naive-write-through':
      return [{ key, strategy: 'write-through' }];
    case 'versioned+leases':
      return [{ key, strategy: 'versioned', version: 'sequenceNumber' }];
    case 'versioned-tombstone+leases':
      return [{ key, strategy: 'versioned', version: 'sequenceNumber', writes: 'tombstone' }];
    case 'versioned-attribute+leases':
    case 'kinesis-versioned+leases':
      return [{ key, strategy: 'versioned', version: { attribute: 'v' } }];
  }
}

/**
 * Run one check. Never throws for stale entries: it counts them.
 *
 * @example
 * ```ts
 * const report = await runConsistencyCheck({ adapter: memoryAdapter(), scenario: 'versioned+leases', ops: 100_000 });
 * console.log(report.stale); // 0
 * ```
 */
export async function runConsistencyCheck(options: CheckOptions): Promise<CheckReport> {
  const started = performance.now();
  const {
    adapter,
    scenario,
    ops,
    items = 500,
    concurrency = 64,
    writeRatio = 0.25,
    shards = 4,
    parallelization = 1,
    sharedKeys = 0,
    batchSize = 25,
    failureRate = 0.02,
    duplicateRate = 0.05,
    reorderWindow = 8,
    seed = 1,
    prefix = `cc:${randomUUID().slice(0, 8)}:`,
  } = options;
  const rand = prng(seed);
  // Kinesis scenarios deliver out of order and duplicated; only the versioned one can use the
  // Kinesis handler (it refuses write-through), so the naive one gets the same disorder in
  // DynamoDB Streams shape, as a hand-written consumer that trusted the order would see it.
  const reorder = scenario.startsWith('kinesis');
  const kinesis = scenario === 'kinesis-versioned+leases';
  const leases = scenario.endsWith('+leases');
  const counters = { injectedFailures: 0 };
  const cache = faulty(adapter, prng(seed ^ 0x5bd1e995), failureRate, counters);

  const processor: StreamProcessor =
    scenario === 'kinesis-versioned+leases'
      ? createKinesisStreamProcessor({ adapter: cache, rules: rulesFor(scenario, prefix, sharedKeys > 0), logger: false, metrics: false })
      : createStreamProcessor({ adapter: cache, rules: rulesFor(scenario, prefix, sharedKeys > 0), logger: false, metrics: false });
  let readerCacheErrors = 0;
  const reader: CacheReader | undefined = leases
    ? createCacheReader({ adapter, leaseTtlMs: 50, waitMs: 20, pollMs: 1, onCacheError: () => void readerCacheErrors++ })
    : undefined;

  // The table, and each item's next version (versions keep increasing across delete/re-create).
  const table = new Map<string, TableItem>();
  const nextVersion = new Map<string, number>();
  let sequence = 10n ** 20n;
  // One queue and consumer per lane: a shard has `parallelization` lanes, as Lambda processes
  // one batch per lane; a partition key always maps to the same lane.
  const lanes = shards * parallelization;
  const queues: unknown[][] = Array.from({ length: lanes }, () => []);
  const positions: number[] = Array.from({ length: lanes }, () => 0);
  // Records of the batch a consumer is processing: a late record must land after them.
  const inFlight: number[] = Array.from({ length: lanes }, () => 0);
  // What the last record in stream order leaves in each shared key (undefined: deleted).
  const sharedTruth = new Map<number, TableItem | undefined>();
  let streamRecords = 0;
  // Which item version each record carries, and the newest version the stream has applied per
  // item (a REMOVE ranks above a value of the same version).
  const recordMeta = new WeakMap<object, { pk: string; v: number; removed: boolean }>();
  const applied = new Map<string, { v: number; removed: boolean }>();
  const noteApplied = (record: unknown) => {
    const meta = typeof record === 'object' && record !== null ? recordMeta.get(record) : undefined;
    if (meta === undefined) return;
    const before = applied.get(meta.pk);
    if (before === undefined || meta.v > before.v || (meta.v === before.v && meta.removed && !before.removed)) {
      applied.set(meta.pk, { v: meta.v, removed: meta.removed });
    }
  };
  let staleReads = 0;
  const checkRead = (floor: { v: number; removed: boolean } | undefined, value: unknown) => {
    if (floor === undefined) return;
    const v = (value as { v?: unknown } | null)?.v;
    if (typeof v !== 'number' || v < floor.v || (v === floor.v && floor.removed)) staleReads++;
  };
  const hash = (pk: string, multiplier: number) => {
    let h = 0;
    for (let i = 0; i < pk.length; i++) h = (h * multiplier + pk.charCodeAt(i)) | 0;
    return Math.abs(h);
  };
  const laneOf = (pk: string) => (hash(pk, 31) % shards) * parallelization + (hash(pk, 131) % parallelization);

  function emit(pk: string, eventName: 'INSERT' | 'MODIFY' | 'REMOVE', before: TableItem | undefined, after: TableItem | undefined): void {
    sequence += 1n;
    streamRecords++;
    const dynamodb: Record<string, unknown> = {
      Keys: { pk: { S: pk } },
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      SizeBytes: 64,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...(after ? { NewImage: image(after) } : {}),
      ...(before ? { OldImage: image(before) } : {}),
    };
    const meta = { pk, v: (after ?? before)?.v ?? 0, removed: after === undefined };
    if (before?.g !== undefined && before.g !== after?.g) sharedTruth.set(before.g, undefined);
    if (after?.g !== undefined) sharedTruth.set(after.g, after);
    const lane = laneOf(pk);
    const queue = queues[lane] as unknown[];
    const position = (positions[lane] as number) + (inFlight[lane] as number);
    const at = reorder ? Math.max(position, queue.length - Math.floor(rand() * (reorderWindow + 1))) : queue.length;
    const duplicate = reorder && rand() < duplicateRate;
    if (!kinesis) {
      const record = {
        eventID: String(sequence),
        eventName,
        eventSource: 'aws:dynamodb',
        eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/Bench/stream/2026-01-01T00:00:00.000',
        dynamodb: { ...dynamodb, SequenceNumber: String(sequence) },
      };
      recordMeta.set(record, meta);
      queue.splice(at, 0, record);
      if (duplicate) queue.push(record);
      return;
    }
    const payload = {
      eventID: String(sequence),
      eventName,
      eventSource: 'aws:dynamodb',
      tableName: 'Bench',
      recordFormat: 'application/json',
      userIdentity: null,
      dynamodb: { ...dynamodb, ApproximateCreationDateTime: Date.now() * 1000, ApproximateCreationDateTimePrecision: 'MICROSECOND' },
    };
    const wrap = (copy: number) => {
      const record = {
        eventSource: 'aws:kinesis',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/bench',
        kinesis: { sequenceNumber: `${sequence}${copy}`, partitionKey: pk, data: Buffer.from(JSON.stringify(payload)).toString('base64') },
      };
      recordMeta.set(record, meta);
      return record;
    };
    // Out of order: inserted among the last `reorderWindow` undelivered records. Duplicates: a copy later.
    queue.splice(at, 0, wrap(0));
    if (duplicate) queue.push(wrap(1));
  }

  function write(pk: string): void {
    const before = table.get(pk);
    const v = (nextVersion.get(pk) ?? 0) + 1;
    nextVersion.set(pk, v);
    if (before && rand() < 0.1) {
      table.delete(pk);
      emit(pk, 'REMOVE', before, undefined);
      return;
    }
    const g = sharedKeys > 0 ? (before?.g !== undefined && rand() < 0.8 ? before.g : Math.floor(rand() * sharedKeys)) : undefined;
    const after: TableItem = { pk, v, n: Math.floor(rand() * 1e9), ...(g === undefined ? {} : { g }) };
    table.set(pk, after);
    emit(pk, before ? 'MODIFY' : 'INSERT', before, after);
  }

  // A table read that takes time: the snapshot is taken now, returned later.
  async function load(pk: string): Promise<TableItem | undefined> {
    const snapshot = table.get(pk);
    if (rand() < 0.005)
      await new Promise((resolve) => setTimeout(resolve, 60)); // slower than a lease
    else await ticks(Math.floor(rand() * 6));
    return snapshot;
  }

  let hits = 0;
  let cacheErrors = 0;
  async function read(pk: string): Promise<void> {
    const key = `${prefix}${pk}`;
    const floor = applied.get(pk);
    if (reader) {
      let loaded = false;
      const value = await reader.getOrLoad(key, () => {
        loaded = true;
        return load(pk);
      });
      if (!loaded) {
        hits++;
        checkRead(floor, value);
      }
      return;
    }
    // The classic cache-aside read: get; on a miss load and set. A failed cache call is a miss.
    const stored = await adapter.get(key).catch(() => {
      cacheErrors++;
      return null;
    });
    if (stored === null) {
      await load(pk);
      return;
    }
    if (stored !== undefined) {
      hits++;
      const entry = decodeEnvelope(stored);
      checkRead(floor, entry.kind === 'value' || entry.kind === 'plain' ? (JSON.parse(entry.payload) as unknown) : undefined);
      return;
    }
    const item = await load(pk);
    if (item !== undefined) await adapter.execute([{ kind: 'set', key, value: JSON.stringify(item) }]).catch(() => void cacheErrors++);
  }

  // Lambda-style consumers: one per shard, batches in order, replay from the reported record.
  let writersDone = false;
  let deliveries = 0;
  let replays = 0;
  let duplicateBatches = 0;
  const identifierOf = (record: unknown): string => {
    const r = record as { kinesis?: { sequenceNumber: string }; dynamodb?: { SequenceNumber?: string } };
    return r.kinesis?.sequenceNumber ?? r.dynamodb?.SequenceNumber ?? '';
  };
  async function consume(shard: number): Promise<void> {
    const queue = queues[shard] as unknown[];
    for (;;) {
      const position = positions[shard] as number;
      if (position >= queue.length) {
        if (writersDone) return;
        await ticks(1 + Math.floor(rand() * 4));
        continue;
      }
      await ticks(Math.floor(rand() * 3)); // stream lag
      const batch = queue.slice(position, position + 1 + Math.floor(rand() * batchSize));
      deliveries += batch.length;
      inFlight[shard] = batch.length;
      const result = await processor.process({ Records: batch });
      inFlight[shard] = 0;
      const failure = result.batchItemFailures[0];
      const index =
        failure === undefined
          ? batch.length
          : Math.max(
              0,
              batch.findIndex((r) => identifierOf(r) === failure.itemIdentifier),
            );
      for (const record of batch.slice(0, index)) noteApplied(record);
      if (failure !== undefined) {
        replays++;
        positions[shard] = position + Math.max(0, index); // '' or unknown: the whole batch again
        continue;
      }
      if (rand() < duplicateRate) {
        duplicateBatches++;
        continue; // delivered again: at-least-once
      }
      positions[shard] = position + batch.length;
    }
  }

  const consumers = queues.map((_, shard) => consume(shard));

  let issued = 0;
  let reads = 0;
  let writes = 0;
  const step = Math.max(1, Math.floor(ops / 20));
  async function worker(): Promise<void> {
    while (issued < ops) {
      issued++;
      if (options.onProgress && issued % step === 0) options.onProgress(issued);
      const pk = `item-${Math.floor(rand() * items)}`;
      if (rand() < writeRatio) {
        writes++;
        write(pk);
        await tick();
      } else {
        reads++;
        await read(pk);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const opsDone = performance.now();
  writersDone = true;
  await Promise.all(consumers);
  const drained = performance.now();

  if (options.plantStale) {
    // An out-of-band writer puts an old image back: what the checker exists to catch.
    const [pk, item] = [...table.entries()].find(([, it]) => it.v > 1) ?? [];
    if (pk !== undefined && item !== undefined) {
      const old = JSON.stringify({ ...item, v: item.v - 1, n: -1 });
      const value = scenario.startsWith('versioned') || scenario.startsWith('kinesis-versioned') ? valueEnvelope(String(item.v - 1), old) : old;
      await adapter.execute([{ kind: 'set', key: `${prefix}${pk}`, value }]);
    }
  }

  const monitor = options.afterDrain
    ? await options.afterDrain({ adapter, rules: rulesFor(scenario, prefix, sharedKeys > 0), kinesis, shards: queues, table })
    : undefined;

  /** The cached item under `key`; undefined for a miss, a tombstone or a lease. */
  const cachedItem = async (key: string): Promise<TableItem | undefined> => {
    let stored: string | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        stored = await adapter.get(key);
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
    if (stored === undefined) return undefined;
    const entry = decodeEnvelope(stored);
    if (entry.kind !== 'value' && entry.kind !== 'plain') return undefined; // tombstones and leases are misses
    return JSON.parse(entry.payload) as TableItem;
  };
  const same = (a: TableItem, b: TableItem | undefined) => b !== undefined && a.pk === b.pk && a.v === b.v && a.n === b.n;

  // The check: every cached value must equal the table's current item.
  let stale = 0;
  const examples: { key: string; cached: unknown; table: unknown }[] = [];
  for (let i = 0; i < items; i++) {
    const pk = `item-${i}`;
    const key = `${prefix}${pk}`;
    const cached = await cachedItem(key);
    if (cached === undefined) continue;
    const current = table.get(pk);
    if (!same(cached, current)) {
      stale++;
      if (examples.length < 5) examples.push({ key, cached, table: current ?? null });
    }
  }
  // Shared keys: the value the last record for the key, in stream order, leaves there.
  let sharedStale = 0;
  for (let g = 0; g < sharedKeys; g++) {
    const key = `${prefix}grp:${g}`;
    const cached = await cachedItem(key);
    if (cached === undefined) continue;
    const expected = sharedTruth.get(g);
    if (!same(cached, expected)) {
      sharedStale++;
      if (examples.length < 5) examples.push({ key, cached, table: expected ?? null });
    }
  }

  return {
    scenario,
    adapter: adapter.name,
    ops: issued,
    reads,
    writes,
    hits,
    streamRecords,
    deliveries,
    injectedFailures: counters.injectedFailures,
    replays,
    duplicateBatches,
    items,
    stale,
    sharedStale,
    staleReads,
    cacheErrors: cacheErrors + readerCacheErrors,
    examples,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    phases: { opsSeconds: Math.round((opsDone - started) / 100) / 10, drainSeconds: Math.round((drained - opsDone) / 100) / 10 },
    ...(monitor === undefined ? {} : { monitor }),
  };
}
