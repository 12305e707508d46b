import { BatchWriteItemCommand, DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamRunner, type FailedBatch, type StreamRunner } from '../../src/local/stream-runner.js';
import { startDynamoDb, type DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';

let ddb: DynamoDbLocalHarness;
let tables = 0;
const runners: StreamRunner[] = [];

beforeAll(async () => {
  ddb = await startDynamoDb();
});
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
  await ddb?.stop();
});

/** A fresh table per test, so streams never mix. */
async function table(): Promise<{ name: string; streamArn: string }> {
  const name = `Runner${++tables}`;
  return { name, streamArn: await ddb.createTable({ name }) };
}

function track(runner: StreamRunner): StreamRunner {
  runners.push(runner);
  return runner;
}

const put = (tableName: string, pk: string, extra: Record<string, { S: string } | { N: string } | { B: Uint8Array }> = {}) =>
  ddb.client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, ...extra } }));

const seqs = (records: readonly DynamoDBRecord[]) => records.map((r) => r.dynamodb?.SequenceNumber ?? '?');
const pks = (records: readonly DynamoDBRecord[]) => records.map((r) => r.dynamodb?.Keys?.['pk']?.S ?? '?');

describe('createStreamRunner against DynamoDB Local', () => {
  it('delivers puts, updates and deletes in order, in the Lambda event shape', async () => {
    const { name, streamArn } = await table();
    const events: DynamoDBStreamEvent[] = [];
    const runner = track(createStreamRunner({ endpoint: ddb.endpoint, streamArn, handler: (e) => void events.push(e) }));
    await runner.start();

    await put(name, 'u1', { avatar: { B: new Uint8Array([1, 2, 3]) } });
    await ddb.client.send(
      new UpdateItemCommand({
        TableName: name,
        Key: { pk: { S: 'u1' } },
        UpdateExpression: 'SET email = :e',
        ExpressionAttributeValues: { ':e': { S: 'a@example.com' } },
      }),
    );
    await ddb.client.send(new DeleteItemCommand({ TableName: name, Key: { pk: { S: 'u1' } } }));
    await runner.waitForIdle();

    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    for (const record of records) {
      expect(record.eventSourceARN).toBe(streamArn);
      expect(record.eventSource).toBe('aws:dynamodb');
      expect(record.eventVersion).toBe('1.1');
      expect(typeof record.dynamodb?.ApproximateCreationDateTime).toBe('number');
      expect(record.dynamodb?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
    }
    expect(records[0]?.dynamodb?.NewImage?.['avatar']).toEqual({ B: 'AQID' });
    expect(records[1]?.dynamodb?.OldImage?.['email']).toBeUndefined();
    expect(records[1]?.dynamodb?.NewImage?.['email']).toEqual({ S: 'a@example.com' });
    expect(records[2]?.dynamodb?.OldImage?.['email']).toEqual({ S: 'a@example.com' });
    // The event survives a JSON round trip unchanged, as a real Lambda event does.
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
    expect(runner.stats.recordsDelivered).toBe(3);
  });

  it('splits a 25-item batch write into batches of at most batchSize, in sequence order', async () => {
    const { name, streamArn } = await table();
    const batches: DynamoDBRecord[][] = [];
    const runner = track(createStreamRunner({ endpoint: ddb.endpoint, streamArn, batchSize: 10, handler: (e) => void batches.push(e.Records) }));
    await runner.start();
    for (let start = 0; start < 25; start += 25) {
      await ddb.client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [name]: Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: { S: `b${start + i}` } } } })),
          },
        }),
      );
    }
    await runner.waitForIdle();

    expect(batches.every((b) => b.length >= 1 && b.length <= 10)).toBe(true);
    const all = batches.flat();
    expect(all).toHaveLength(25);
    const numbers = seqs(all).map((s) => BigInt(s));
    expect(numbers).toEqual([...numbers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('retries from the reported itemIdentifier: earlier records are not delivered again', async () => {
    const { name, streamArn } = await table();
    const calls: string[][] = [];
    let failedOnce = false;
    const runner = track(
      createStreamRunner({
        endpoint: ddb.endpoint,
        streamArn,
        retryDelayMs: 1,
        maximumBatchingWindowMs: 60_000, // hold the batch until all five are in
        batchSize: 5,
        handler: (event) => {
          calls.push(pks(event.Records));
          const third = event.Records[2]?.dynamodb?.SequenceNumber;
          if (!failedOnce && third !== undefined) {
            failedOnce = true;
            // Report the 3rd and 5th: Lambda checkpoints at the lowest, the 3rd.
            const fifth = event.Records[4]?.dynamodb?.SequenceNumber ?? '';
            return { batchItemFailures: [{ itemIdentifier: fifth }, { itemIdentifier: third }] };
          }
          return { batchItemFailures: [] };
        },
      }),
    );
    await runner.start();
    for (const pk of ['p1', 'p2', 'p3', 'p4', 'p5']) await put(name, pk);
    await runner.waitForIdle();

    expect(calls).toEqual([
      ['p1', 'p2', 'p3', 'p4', 'p5'],
      ['p3', 'p4', 'p5'],
    ]);
    expect(runner.stats.recordsDelivered).toBe(5);
    expect(runner.stats.retries).toBe(1);
  });

  it('retries the whole batch when the handler throws or reports an empty itemIdentifier', async () => {
    const { name, streamArn } = await table();
    const calls: string[][] = [];
    const runner = track(
      createStreamRunner({
        endpoint: ddb.endpoint,
        streamArn,
        retryDelayMs: 1,
        handler: (event) => {
          calls.push(pks(event.Records));
          if (calls.length === 1) throw new Error('cache down');
          if (calls.length === 2) return { batchItemFailures: [{ itemIdentifier: '' }] };
          return undefined;
        },
      }),
    );
    await runner.start();
    await put(name, 'w1');
    await runner.waitForIdle();

    expect(calls).toEqual([['w1'], ['w1'], ['w1']]);
  });

  it('after maximumRetryAttempts hands the batch to onFailure and moves on to later records', async () => {
    const { name, streamArn } = await table();
    const failures: FailedBatch[] = [];
    const delivered: string[] = [];
    const runner = track(
      createStreamRunner({
        endpoint: ddb.endpoint,
        streamArn,
        retryDelayMs: 1,
        maximumRetryAttempts: 2,
        onFailure: (failure) => void failures.push(failure),
        handler: (event) => {
          if (event.Records.some((r) => r.dynamodb?.Keys?.['pk']?.S === 'poison')) throw new Error('cannot encode poison');
          delivered.push(...pks(event.Records));
        },
      }),
    );
    await runner.start();
    await put(name, 'poison');
    await runner.waitForIdle();
    await put(name, 'after');
    await runner.waitForIdle();

    expect(failures).toHaveLength(1);
    expect(failures[0]?.attempts).toBe(3);
    expect(pks(failures[0]?.records ?? [])).toEqual(['poison']);
    expect(failures[0]?.reason).toMatch(/cannot encode poison/);
    expect(failures[0]?.shardId).toMatch(/^shardId-/);
    expect(delivered).toEqual(['after']);
    expect(runner.stats.failedBatches).toBe(1);
  });

  it('with LATEST delivers only what is written after start()', async () => {
    const { name, streamArn } = await table();
    await put(name, 'before');
    const seen: string[] = [];
    const runner = track(
      createStreamRunner({
        endpoint: ddb.endpoint,
        streamArn,
        startingPosition: 'LATEST',
        handler: (event) => void seen.push(...pks(event.Records)),
      }),
    );
    await runner.start();
    await put(name, 'after');
    await runner.waitForIdle();
    expect(seen).toEqual(['after']);
  });

  it('gathers records for the batching window before invoking', async () => {
    const { name, streamArn } = await table();
    const sizes: number[] = [];
    const runner = track(
      createStreamRunner({
        endpoint: ddb.endpoint,
        streamArn,
        // Long enough that five sequential puts always land inside one window.
        maximumBatchingWindowMs: 5_000,
        handler: (event) => void sizes.push(event.Records.length),
      }),
    );
    await runner.start();
    for (const pk of ['g1', 'g2', 'g3', 'g4', 'g5']) await put(name, pk);
    await runner.waitForIdle();
    expect(sizes).toEqual([5]);
  });

  it('stops cleanly: nothing is delivered after stop() and waitForIdle refuses', async () => {
    const { name, streamArn } = await table();
    const seen: string[] = [];
    const runner = createStreamRunner({
      endpoint: ddb.endpoint,
      streamArn,
      pollIntervalMs: 10,
      handler: (e) => void seen.push(...pks(e.Records)),
    });
    await runner.start();
    await put(name, 's1');
    await runner.waitForIdle();
    await runner.stop();
    await runner.stop(); // idempotent
    await put(name, 's2');

    // The event that bounds the wait: a second runner on the same stream delivers s2. Its second
    // idle wait needs a read after a full 100 ms poll pause that began after s2 was readable: ten
    // of the stopped runner's 10 ms polls, so a runner still reading would have delivered s2 too.
    const witnessed: string[] = [];
    const witness = track(createStreamRunner({ endpoint: ddb.endpoint, streamArn, handler: (e) => void witnessed.push(...pks(e.Records)) }));
    await witness.start();
    await witness.waitForIdle();
    await witness.waitForIdle();
    expect(witnessed).toEqual(['s1', 's2']);
    expect(seen).toEqual(['s1']);
    await expect(runner.waitForIdle()).rejects.toThrow(/start\(\)/);
  });

  it('fails start() with a clear error for a stream that does not exist', async () => {
    const runner = createStreamRunner({
      endpoint: ddb.endpoint,
      streamArn: 'arn:aws:dynamodb:ddblocal:000000000000:table/Missing/stream/2020-01-01T00:00:00.000',
      handler: () => undefined,
    });
    await expect(runner.start()).rejects.toThrow(/stream enabled/);
  });
});
