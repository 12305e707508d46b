import type { AttributeValue, BatchGetItemCommandInput, BatchGetItemCommandOutput, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import type { InitializeHandler } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import { compileRules } from '../../src/core/compiled-rule.js';
import type { Rule } from '../../src/core/rules.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
import { encodeSdkItem } from '../../src/sdk/attribute-json.js';
import { createBatchGet } from '../../src/sdk/batch-get.js';
import { emptyReadMetrics } from '../../src/sdk/metrics.js';
import { storesItem } from '../../src/sdk/coverage.js';

type Item = Record<string, AttributeValue>;

/** Orders keyed by a number: the table answers numbers in DynamoDB's normal form. */
const orders: Rule = {
  name: 'orders',
  table: 'Orders',
  key: (i) => `order:${String(i['id'])}`,
  strategy: 'write-through',
  codec: 'dynamodb',
};

/** The BatchGetItem path over `adapter`, and a table that answers from `rows` (keyed by `id`'s number). */
function harness(adapter: CacheAdapter, rows: Item[], fail?: Error) {
  const compiled = compileRules([orders]);
  const counters = emptyReadMetrics();
  const batchGet = createBatchGet({
    adapter,
    rulesFor: (table) => {
      const matching = table === undefined ? [] : compiled.filter((r) => r.matchesTable(table));
      return { servable: matching.filter(storesItem), any: matching.length > 0 };
    },
    counters: () => counters,
    logger: undefined,
    leaseTtlMs: 3_000,
    negativeTtlSeconds: undefined,
    versionOf: () => undefined,
  });
  const asked: BatchGetItemCommandInput[] = [];
  const next: InitializeHandler<ServiceInputTypes, ServiceOutputTypes> = async (args) => {
    const input = args.input as BatchGetItemCommandInput;
    asked.push(input);
    if (fail) throw fail;
    const keys = input.RequestItems?.['Orders']?.Keys ?? [];
    const wanted = new Set(keys.map((k) => Number(k['id']?.N)));
    const output: BatchGetItemCommandOutput = {
      $metadata: { httpStatusCode: 200 },
      Responses: { Orders: rows.filter((row) => wanted.has(Number(row['id']?.N))) },
      UnprocessedKeys: {},
    };
    return { output, response: undefined };
  };
  const send = async (input: BatchGetItemCommandInput) => (await batchGet({ input }, next)).output as BatchGetItemCommandOutput;
  return { send, asked, counters };
}

describe('BatchGetItem through the read-through plugin', () => {
  it('matches the table’s items to the requested keys by value, so a number key written 1.50 fills the item stored as 1.5', async () => {
    const cache = memoryAdapter();
    const row: Item = { id: { N: '1.5' }, total: { N: '12345678901234567890' } };
    const { send } = harness(cache, [row]);

    const output = await send({ RequestItems: { Orders: { Keys: [{ id: { N: '1.50' } }] } } });

    expect(output.Responses?.['Orders']).toEqual([row]);
    const stored = await cache.get('order:1.5');
    expect(stored === undefined ? undefined : decodeEnvelope(stored)).toMatchObject({ kind: 'value', payload: encodeSdkItem(row) });
  });

  it('reads per key when the adapter has no getMany, and serves the hits', async () => {
    const memory = memoryAdapter();
    const { getMany: _unused, ...withoutGetMany } = memory;
    const row: Item = { id: { N: '7' }, total: { N: '1' } };
    await memory.execute([{ kind: 'set', key: 'order:7', value: encodeSdkItem(row) }]);
    const { send, asked, counters } = harness(withoutGetMany, []);

    const output = await send({ RequestItems: { Orders: { Keys: [{ id: { N: '7' } }] } } });

    expect(output.Responses).toEqual({ Orders: [row] });
    expect(asked).toEqual([]);
    expect(counters.ReadHits).toBe(1);
  });

  it('gives every lease back and throws the table’s error when the table fails', async () => {
    const cache = memoryAdapter();
    const boom = new Error('ProvisionedThroughputExceededException');
    const { send } = harness(cache, [], boom);

    await expect(send({ RequestItems: { Orders: { Keys: [{ id: { N: '1' } }, { id: { N: '2' } }] } } })).rejects.toBe(boom);

    expect(cache.keys()).toEqual([]);
  });

  it('passes a request that asks for consumed capacity through untouched (a hit consumes none)', async () => {
    const cache = memoryAdapter();
    const row: Item = { id: { N: '3' } };
    await cache.execute([{ kind: 'set', key: 'order:3', value: encodeSdkItem(row) }]);
    const { send, asked, counters } = harness(cache, [row]);
    const input: BatchGetItemCommandInput = { RequestItems: { Orders: { Keys: [{ id: { N: '3' } }] } }, ReturnConsumedCapacity: 'TOTAL' };

    await send(input);

    expect(asked).toEqual([input]);
    expect(counters).toMatchObject({ ReadHits: 0, ReadPassThroughs: 1 });
  });
});
