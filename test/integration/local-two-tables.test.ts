import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamRunner, type StreamRunner } from '../../src/local/stream-runner.js';
import { startDynamoDb, type DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';

let ddb: DynamoDbLocalHarness;
const runners: StreamRunner[] = [];

beforeAll(async () => {
  ddb = await startDynamoDb();
});
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
  await ddb?.stop();
});

const put = (table: string, pk: string) => ddb.client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk } } }));

describe('stream runners on two tables of one DynamoDB Local', () => {
  it('a runner idling on an empty shard keeps delivering after another table is created and written', async () => {
    const errors: unknown[] = [];
    const events = new Map<string, DynamoDBStreamEvent[]>([
      ['TableA', []],
      ['TableB', []],
    ]);
    const start = async (name: string) => {
      const streamArn = await ddb.createTable({ name });
      const runner = createStreamRunner({
        endpoint: ddb.endpoint,
        streamArn,
        handler: (e) => void events.get(name)?.push(e),
        onError: (e) => void errors.push(e),
      });
      runners.push(runner);
      await runner.start();
      return runner;
    };
    const a = await start('TableA');
    await a.waitForIdle();
    const b = await start('TableB');
    await put('TableB', 'b1');
    await b.waitForIdle();
    await put('TableA', 'a1');
    await a.waitForIdle();
    await put('TableB', 'b2');
    await put('TableA', 'a2');
    await Promise.all([a.waitForIdle(), b.waitForIdle()]);
    expect(errors.map((e) => String(e))).toEqual([]);
    expect(events.get('TableA')?.flatMap((e) => e.Records.map((r) => r.dynamodb?.Keys?.['pk']?.S))).toEqual(['a1', 'a2']);
    expect(events.get('TableB')?.flatMap((e) => e.Records.map((r) => r.dynamodb?.Keys?.['pk']?.S))).toEqual(['b1', 'b2']);
  }, 60_000);
});
