/**
 * The realistic consistency check: a real table in DynamoDB Local, writers committing with
 * UpdateItem/DeleteItem, cache-aside readers loading with consistent GetItem, and the records
 * delivered by the local stream runner (Lambda's batch and retry semantics) to the real handler,
 * with injected command failures. After the stream is idle, every cache entry must match the
 * table. Smaller than the in-process checker (DynamoDB Local is the bottleneck), but nothing in
 * it is modelled.
 */
import { DeleteItemCommand, GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faulty } from '../../bench/consistency/checker.js';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { createStreamRunner } from '../../src/local/stream-runner.js';
import { createCacheReader } from '../../src/reader/index.js';
import { startDynamoDb, type DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';

let ddb: DynamoDbLocalHarness;
let tables = 0;
beforeAll(async () => {
  ddb = await startDynamoDb();
}, 60_000);
afterAll(async () => {
  await ddb?.stop();
}, 60_000);

const ITEMS = 20;
const OPS = 1_500;

interface Result {
  stale: number;
  examples: unknown[];
  injected: number;
  invocations: number;
  retries: number;
}

async function run(rule: Omit<Rule, 'key'>, leases: boolean, adapter: CacheAdapter): Promise<Result> {
  const name = `Consistency${++tables}`;
  const streamArn = await ddb.createTable({ name });
  const counters = { injectedFailures: 0 };
  let r = 42;
  const rand = () => (r = (Math.imul(r, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const handler = createStreamHandler({
    adapter: faulty(adapter, rand, 0.03, counters),
    rules: [{ ...rule, key: (i) => `${name}:${String(i['pk'])}` } as Rule],
    logger: false,
    metrics: false,
  });
  const runner = createStreamRunner({ endpoint: ddb.endpoint, streamArn, handler, batchSize: 10, pollIntervalMs: 10, retryDelayMs: 5, onError: () => {} });
  await runner.start();
  const reader = createCacheReader({ adapter, leaseTtlMs: 2_000, waitMs: 50, pollMs: 2 });
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(rand() * 4)));

  const load = async (pk: string) => {
    const { Item } = await ddb.client.send(new GetItemCommand({ TableName: name, Key: { pk: { S: pk } }, ConsistentRead: true }));
    await pause(); // the window in which a write can overtake this read
    return Item === undefined ? undefined : unmarshall(Item);
  };
  let issued = 0;
  const worker = async () => {
    while (issued < OPS) {
      issued++;
      const pk = `item-${Math.floor(rand() * ITEMS)}`;
      const key = `${name}:${pk}`;
      const dice = rand();
      if (dice < 0.03) await ddb.client.send(new DeleteItemCommand({ TableName: name, Key: { pk: { S: pk } } }));
      else if (dice < 0.3) {
        await ddb.client.send(
          new UpdateItemCommand({
            TableName: name,
            Key: { pk: { S: pk } },
            UpdateExpression: 'SET v = if_not_exists(v, :zero) + :one, n = :n',
            ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':n': { N: String(Math.floor(rand() * 1e9)) } },
          }),
        );
      } else if (leases) await reader.getOrLoad(key, () => load(pk));
      else if ((await adapter.get(key)) === undefined) {
        const item = await load(pk);
        if (item !== undefined) await adapter.execute([{ kind: 'set', key, value: JSON.stringify(item) }]);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await runner.waitForIdle({ timeoutMs: 60_000 });
  const { invocations, retries } = runner.stats;
  await runner.stop();

  const { Items = [] } = await ddb.client.send(new ScanCommand({ TableName: name, ConsistentRead: true }));
  const table = new Map(Items.map((item) => [String(item['pk']?.S), unmarshall(item)]));
  let stale = 0;
  const examples: unknown[] = [];
  for (let i = 0; i < ITEMS; i++) {
    const pk = `item-${i}`;
    const stored = await adapter.get(`${name}:${pk}`);
    if (stored === undefined) continue;
    const entry = decodeEnvelope(stored);
    if (entry.kind !== 'value' && entry.kind !== 'plain') continue;
    const cached = JSON.parse(entry.payload) as Record<string, unknown>;
    const current = table.get(pk);
    if (current === undefined || cached['v'] !== current['v'] || cached['n'] !== current['n']) {
      stale++;
      examples.push({ pk, cached, table: current });
    }
  }
  return { stale, examples, injected: counters.injectedFailures, invocations, retries };
}

describe('consistency against DynamoDB Local and the local stream runner', () => {
  for (const [label, rule] of [
    ['versioned + leases', { strategy: 'versioned', version: 'sequenceNumber' }],
    ['versioned tombstones + leases', { strategy: 'versioned', version: 'sequenceNumber', writes: 'tombstone' }],
    ['invalidate + leases', { strategy: 'invalidate' }],
  ] as const) {
    it(`${label}: ${OPS} operations leave 0 stale entries`, async () => {
      const result = await run(rule, true, memoryAdapter());
      expect(result.injected).toBeGreaterThan(0);
      expect(result.retries).toBeGreaterThan(0);
      expect(result.examples).toEqual([]);
      expect(result.stale).toBe(0);
    }, 120_000);
  }
});
