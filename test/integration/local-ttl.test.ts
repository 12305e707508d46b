/**
 * DynamoDB Local performs Time to Live deletes (within about a second) and labels them
 * `UNKNOWN_TO_SDK_VERSION` without a userIdentity. The runner must deliver them as Lambda
 * does: REMOVE by the DynamoDB service.
 */
import { PutItemCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
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

/** Resolve with `event`, or reject with `message` if it has not happened after `ms`. */
async function within(ms: number, event: Promise<void>, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    await Promise.race([event, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('Time to Live deletes from DynamoDB Local', () => {
  it('arrive as REMOVE with the DynamoDB service as userIdentity', async () => {
    const streamArn = await ddb.createTable({ name: 'Sessions' });
    await ddb.client.send(new UpdateTimeToLiveCommand({ TableName: 'Sessions', TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }));
    const records: DynamoDBRecord[] = [];
    let removeDelivered: () => void = () => undefined;
    const removeSeen = new Promise<void>((resolve) => {
      removeDelivered = resolve;
    });
    runner = createStreamRunner({
      endpoint: ddb.endpoint,
      streamArn,
      handler: (e) => {
        records.push(...e.Records);
        if (e.Records.some((r) => r.eventName === 'REMOVE')) removeDelivered();
      },
    });
    await runner.start();

    const expired = Math.floor(Date.now() / 1000) - 60;
    await ddb.client.send(new PutItemCommand({ TableName: 'Sessions', Item: { pk: { S: 's1' }, expiresAt: { N: String(expired) } } }));
    await within(60_000, removeSeen, 'DynamoDB Local did not run the Time to Live delete, or the runner did not deliver it, within 60 s');
    await runner.waitForIdle();

    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'REMOVE']);
    const removal = records[1];
    expect(removal?.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(removal?.dynamodb?.OldImage).toEqual({ pk: { S: 's1' }, expiresAt: { N: String(expired) } });
    expect(removal?.eventSourceARN).toBe(streamArn);
  });
});
