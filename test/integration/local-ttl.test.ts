/**
 * DynamoDB Local performs Time to Live deletes (within about a second) and labels them
 * `UNKNOWN_TO_SDK_VERSION` without a userIdentity. The runner must deliver them as Lambda
 * does: REMOVE by the DynamoDB service.
 */
import { GetItemCommand, PutItemCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamRunner, type StreamRunner } from '../../src/local/stream-runner.js';
import { startDynamoDb, type DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';

let ddb: DynamoDbLocalHarness;
let runner: StreamRunner | undefined;

beforeAll(async () => {
  ddb = await startDynamoDb();
});
afterAll(async () => {
  await runner?.stop();
  await ddb?.stop();
});

describe('Time to Live deletes from DynamoDB Local', () => {
  it('arrive as REMOVE with the DynamoDB service as userIdentity', async () => {
    const streamArn = await ddb.createTable({ name: 'Sessions' });
    await ddb.client.send(
      new UpdateTimeToLiveCommand({ TableName: 'Sessions', TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }),
    );
    const records: DynamoDBRecord[] = [];
    runner = createStreamRunner({ endpoint: ddb.endpoint, streamArn, handler: (e) => void records.push(...e.Records) });
    await runner.start();

    const expired = Math.floor(Date.now() / 1000) - 60;
    await ddb.client.send(
      new PutItemCommand({ TableName: 'Sessions', Item: { pk: { S: 's1' }, expiresAt: { N: String(expired) } } }),
    );
    const deadline = Date.now() + 60_000;
    while ((await ddb.client.send(new GetItemCommand({ TableName: 'Sessions', Key: { pk: { S: 's1' } } }))).Item) {
      if (Date.now() > deadline) throw new Error('DynamoDB Local did not run the Time to Live delete within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await runner.waitForIdle();

    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'REMOVE']);
    const removal = records[1];
    expect(removal?.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(removal?.dynamodb?.OldImage).toEqual({ pk: { S: 's1' }, expiresAt: { N: String(expired) } });
    expect(removal?.eventSourceARN).toBe(streamArn);
  });
});
