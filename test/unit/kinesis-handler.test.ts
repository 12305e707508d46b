import fc from 'fast-check';
import type { DynamoDBRecord, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { CommandResult } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
import { ConfigError } from '../../src/errors.js';
import { createKinesisStreamHandler, createKinesisStreamProcessor } from '../../src/lambda/kinesis.js';
import { insert, modify, remove } from '../helpers/records.js';

let kseq = 49_000_000_000_000_000_000_000_000_000n;

/** Wrap a DynamoDB Streams-shaped record the way Kinesis Data Streams for DynamoDB delivers it. */
function kinesisRecord(record: DynamoDBRecord | string, table = 'App'): KinesisStreamRecord {
  kseq += 1n;
  let data: string;
  if (typeof record === 'string') data = record;
  else {
    const { eventSourceARN: _arn, eventVersion: _v, ...rest } = record;
    const dynamodb = { ...rest.dynamodb, ApproximateCreationDateTime: Date.now() * 1000, ApproximateCreationDateTimePrecision: 'MICROSECOND' };
    delete (dynamodb as Record<string, unknown>)['SequenceNumber'];
    delete (dynamodb as Record<string, unknown>)['StreamViewType'];
    data = Buffer.from(
      JSON.stringify({ ...rest, dynamodb, tableName: table, recordFormat: 'application/json', userIdentity: rest.userIdentity ?? null }),
    ).toString('base64');
  }
  return {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'pk', sequenceNumber: String(kseq), data, approximateArrivalTimestamp: Date.now() / 1000 },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:${kseq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/fn',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/app-changes',
  };
}

const kevent = (...records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
const versioned: Rule = { table: 'App', key: (i) => `user:${String(i['pk'])}`, strategy: 'versioned', version: { attribute: 'v' } };

describe('createKinesisStreamHandler', () => {
  it('decodes Kinesis payloads and applies them with the versioned strategy', async () => {
    const cache = memoryAdapter();
    const handler = createKinesisStreamHandler({ adapter: cache, rules: [versioned], logger: false, metrics: false });
    const response = await handler(kevent(kinesisRecord(insert({ pk: 'a', v: 1 })), kinesisRecord(modify({ pk: 'a', v: 1 }, { pk: 'a', v: 2, x: 'y' }))));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(decodeEnvelope((await cache.get('user:a')) ?? '')).toEqual({ kind: 'value', version: '2', payload: '{"pk":"a","v":2,"x":"y"}' });
  });

  it('ends with the newest image per item for any reordering and duplication of the records', async () => {
    // A history per item: versions 1..n, the last possibly a REMOVE.
    const history = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 6 }), fc.boolean()), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(history, fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 7 }), async (items, seed, batchSize) => {
        const records: KinesisStreamRecord[] = [];
        const expected = new Map<string, { version: number; deleted: boolean }>();
        for (const [pk, n, deletedAtEnd] of items) {
          if (expected.has(pk)) continue;
          for (let v = 1; v <= n; v++) records.push(kinesisRecord(v === 1 ? insert({ pk, v }) : modify({ pk, v: v - 1 }, { pk, v })));
          if (deletedAtEnd) records.push(kinesisRecord(remove({ pk, v: n })));
          expected.set(pk, { version: n, deleted: deletedAtEnd });
        }
        // Duplicate some records and shuffle everything (deterministically from the seed).
        let s = seed;
        const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
        const delivered = [...records, ...records.filter(() => rand() < 0.3)];
        for (let i = delivered.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [delivered[i], delivered[j]] = [delivered[j] as KinesisStreamRecord, delivered[i] as KinesisStreamRecord];
        }
        const cache = memoryAdapter();
        const handler = createKinesisStreamHandler({ adapter: cache, rules: [versioned], logger: false, metrics: false });
        for (let i = 0; i < delivered.length; i += batchSize) {
          expect(await handler(kevent(...delivered.slice(i, i + batchSize)))).toEqual({ batchItemFailures: [] });
        }
        for (const [pk, { version, deleted }] of expected) {
          const entry = decodeEnvelope((await cache.get(`user:${pk}`)) ?? '');
          expect(entry).toMatchObject(deleted ? { kind: 'tombstone', version: String(version) } : { kind: 'value', version: String(version) });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reports the earliest failed record by its kinesis.sequenceNumber', async () => {
    const inner = memoryAdapter();
    const failing = {
      ...inner,
      async execute(commands: Parameters<typeof inner.execute>[0]): Promise<CommandResult[]> {
        const results = await inner.execute(commands.filter((c) => c.key !== 'user:b'));
        let j = 0;
        return commands.map((c) => (c.key === 'user:b' ? { ok: false, error: new Error('refused') } : (results[j++] as CommandResult)));
      },
    };
    const processor = createKinesisStreamProcessor({ adapter: failing, rules: [versioned], logger: false, metrics: false });
    const records = [kinesisRecord(insert({ pk: 'a', v: 1 })), kinesisRecord(insert({ pk: 'b', v: 1 })), kinesisRecord(insert({ pk: 'c', v: 1 }))];
    const result = await processor.process(kevent(...records));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.kinesis.sequenceNumber }]);
    expect(result.metrics.StreamLagMs).toBeGreaterThanOrEqual(0);
    expect(result.metrics.StreamLagMs).toBeLessThan(60_000); // microseconds were read as such
  });

  it('reports a record whose data is not a DynamoDB change as invalid, by its sequence number', async () => {
    const processor = createKinesisStreamProcessor({ adapter: memoryAdapter(), rules: [versioned], logger: false, metrics: false });
    const records = [kinesisRecord(insert({ pk: 'a', v: 1 })), kinesisRecord(Buffer.from('not json').toString('base64')), kinesisRecord('***')];
    const result = await processor.process(kevent(...records));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.kinesis.sequenceNumber }]);
    expect(result.records[1]?.error?.field).toBe('kinesis.data');
    expect(result.records[2]?.error?.field).toBe('kinesis.data');
  });

  it('refuses order-dependent rules at cold start', () => {
    const base = { adapter: memoryAdapter(), logger: false as const, metrics: false as const };
    expect(() => createKinesisStreamHandler({ ...base, rules: [{ key: () => 'k', strategy: 'write-through' }] })).toThrow(
      /write-through is unsafe with Kinesis/,
    );
    expect(() => createKinesisStreamHandler({ ...base, rules: [{ key: () => 'k', strategy: 'versioned', version: 'sequenceNumber' }] })).toThrow(ConfigError);
    expect(() => createKinesisStreamHandler({ ...base, rules: [{ key: () => 'k', strategy: 'invalidate' }] })).not.toThrow();
  });
});

describe('createStreamHandler given a Kinesis event', () => {
  it('names the Kinesis handler in the error', async () => {
    const { createStreamProcessor } = await import('../../src/lambda/handler.js');
    const processor = createStreamProcessor({ adapter: memoryAdapter(), rules: [versioned], logger: false, metrics: false });
    const result = await processor.process(kevent(kinesisRecord(insert({ pk: 'a', v: 1 }))));
    expect(result.records[0]?.error?.message).toMatch(/createKinesisStreamHandler/);
  });
});
