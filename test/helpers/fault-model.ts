/**
 * Shared pieces of the real-server fault suites: rules and record streams, a driver that
 * delivers batches the way Lambda does (retry from the reported record), and the model check:
 * the same records through a memory adapter give the cache state every fault run must reach.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { createStreamProcessor, type ProcessResult, type StreamProcessor } from '../../src/lambda/handler.js';
import { insert, modify, remove } from './records.js';

export const faultRules: Rule[] = [
  { name: 'by-id', table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through', ttlSeconds: 3600 },
  { name: 'by-email', table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user-by-email:${String(i['email'])}`, strategy: 'write-through' },
];

/** One cache entry as a comparison sees it. TTLs drift, so only their presence is compared. */
export interface Entry {
  readonly value: string;
  readonly expires: boolean;
}
export type CacheState = Map<string, Entry>;

/**
 * A deterministic stream of `count` records over `users` distinct users (so keys repeat and
 * order matters): inserts, modifies that change names and emails (old email keys must go),
 * and removes. `tag` keeps streams of different tests apart.
 */
export function userStream(tag: string, count: number, users: number): DynamoDBRecord[] {
  const records: DynamoDBRecord[] = [];
  const state = new Map<number, { pk: string; type: string; email: string; name: string; v: number } | undefined>();
  for (let i = 0; i < count; i++) {
    const u = (i * 7) % users;
    const current = state.get(u);
    const pk = `${tag}-${u}`;
    if (current === undefined) {
      const item = { pk, type: 'User', email: `${pk}-0@example.com`, name: `n${i}`, v: i };
      records.push(insert(item));
      state.set(u, item);
    } else if (i % 11 === 5) {
      records.push(remove(current));
      state.set(u, undefined);
    } else {
      const next = { ...current, name: `n${i}`, v: i, email: i % 3 === 0 ? `${pk}-${i}@example.com` : current.email };
      records.push(modify(current, next));
      state.set(u, next);
    }
  }
  return records;
}

/** Each record owns its own keys: record i writes only `user:<tag>-i` and its email key. */
export function distinctStream(tag: string, count: number): DynamoDBRecord[] {
  return Array.from({ length: count }, (_, i) => insert({ pk: `${tag}-${i}`, type: 'User', email: `${tag}-${i}@example.com`, name: `n${i}` }));
}

/** The cache state a fault-free run of `batches` leaves, computed with the memory adapter. */
export async function modelState(...batches: DynamoDBRecord[][]): Promise<CacheState> {
  const cache = memoryAdapter();
  const processor = createStreamProcessor({ adapter: cache, rules: faultRules, logger: false, metrics: false });
  for (const batch of batches) {
    const result = await processor.process({ Records: batch });
    if (result.failedIndex !== undefined) throw new Error('the model run failed: the records themselves are bad');
  }
  const state: CacheState = new Map();
  for (const key of cache.keys()) state.set(key, { value: (await cache.get(key)) ?? '', expires: cache.ttl(key) !== undefined });
  return state;
}

export function processorFor(adapter: CacheAdapter): StreamProcessor {
  return createStreamProcessor({ adapter, rules: faultRules, logger: false, metrics: false });
}

/** Where Lambda resumes after `result` for `batch`: the reported record's index, or the end. */
export function resumeIndex(batch: readonly DynamoDBRecord[], result: ProcessResult): number {
  const failure = result.batchItemFailures[0];
  if (failure === undefined) return batch.length;
  if (failure.itemIdentifier === '') return 0;
  const at = batch.findIndex((r) => r.dynamodb?.SequenceNumber === failure.itemIdentifier);
  if (at < 0) throw new Error(`reported identifier ${failure.itemIdentifier} is not in the batch`);
  return at;
}

/**
 * Deliver `batch` as Lambda's event source mapping does with ReportBatchItemFailures: call the
 * processor; while it reports a record, call `beforeRetry` (tests remove the fault there) and
 * retry from that record. Returns every result, first attempt first.
 */
export async function deliverLikeLambda(
  processor: StreamProcessor,
  batch: DynamoDBRecord[],
  beforeRetry: (attempt: number, result: ProcessResult) => Promise<void> | void = () => undefined,
  maxAttempts = 5,
): Promise<ProcessResult[]> {
  const results: ProcessResult[] = [];
  let from = 0;
  for (let attempt = 0; attempt < maxAttempts && from < batch.length; attempt++) {
    if (attempt > 0) await beforeRetry(attempt, results[results.length - 1] as ProcessResult);
    const slice = batch.slice(from);
    const result = await processor.process({ Records: slice });
    results.push(result);
    from += resumeIndex(slice, result);
  }
  if (from < batch.length) throw new Error(`still failing after ${maxAttempts} attempts`);
  return results;
}
