/**
 * The monitor's default `load` (GetItem, ConsistentRead) against DynamoDB Local: big numbers,
 * sets and binary round-trip exactly, a missing item reads as gone.
 */
import { DeleteItemCommand, PutItemCommand, type AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { AttributeMap, Rule } from '../../src/core/rules.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { localClientConfig } from '../../src/local/dynamodb-local.js';
import { createConsistencyMonitor, dynamodbLoader } from '../../src/monitor/index.js';
import { startDynamoDb, type DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';
import { arnFor } from '../helpers/records.js';

let db: DynamoDbLocalHarness;
const TABLE = 'MonitorItems';
const saved: Record<string, string | undefined> = {};
const ENV = ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

beforeAll(async () => {
  db = await startDynamoDb();
  await db.createTable({ name: TABLE });
  // The monitor's default load builds its own client: point the SDK's defaults at DynamoDB Local.
  const config = localClientConfig(db.endpoint);
  for (const name of ENV) saved[name] = process.env[name];
  process.env['AWS_ENDPOINT_URL_DYNAMODB'] = config.endpoint;
  process.env['AWS_REGION'] = config.region;
  process.env['AWS_ACCESS_KEY_ID'] = config.credentials.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = config.credentials.secretAccessKey;
});
afterAll(async () => {
  for (const name of ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await db?.stop();
});

const rule: Rule = { name: 'items', table: TABLE, key: (i) => `item:${String(i['pk'])}`, strategy: 'write-through', codec: 'dynamodb' };

/** An item DynamoDB stores exactly and JavaScript numbers cannot: 38 digits, a set, binary. */
const item = (pk: string, big: string): Record<string, SdkAttributeValue> => ({
  pk: { S: pk },
  big: { N: big },
  tags: { SS: ['a', 'b'] },
  blob: { B: new Uint8Array([0, 1, 2, 250]) },
  nested: { M: { n: { N: '0.1' } } },
});

/** The same item as a Lambda stream record carries it (binary as base64). */
function streamRecord(eventName: 'INSERT' | 'MODIFY', image: Record<string, SdkAttributeValue>, sequenceNumber: string): DynamoDBRecord {
  const lambdaImage = JSON.parse(JSON.stringify(image, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))) as AttributeMap;
  return {
    eventID: sequenceNumber,
    eventName,
    eventSource: 'aws:dynamodb',
    eventSourceARN: arnFor(TABLE),
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000) - 60,
      Keys: { pk: lambdaImage['pk'] } as never,
      NewImage: lambdaImage as never,
      SequenceNumber: sequenceNumber,
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

describe('the monitor default load on DynamoDB Local', () => {
  it('answers the item in AttributeValue form, exactly, and undefined for a missing item', async () => {
    const stored = item('exact', '12345678901234567890123456789012345678');
    await db.client.send(new PutItemCommand({ TableName: TABLE, Item: stored }));
    const load = dynamodbLoader(localClientConfig(db.endpoint));

    const loaded = await load(TABLE, { pk: { S: 'exact' } });

    expect(loaded?.['big']).toEqual({ N: '12345678901234567890123456789012345678' });
    expect(loaded?.['tags']).toEqual({ SS: ['a', 'b'] });
    expect(Buffer.from((loaded?.['blob'] as { B: Uint8Array }).B)).toEqual(Buffer.from([0, 1, 2, 250]));
    expect(await load(TABLE, { pk: { S: 'never-written' } })).toBeUndefined();
  });

  it('tells a cache that caught up with the table from one that holds an older 38-digit number', async () => {
    const adapter = memoryAdapter();
    const first = item('a', '10000000000000000000000000000000000001');
    const second = item('a', '10000000000000000000000000000000000002');
    const older = streamRecord('INSERT', first, '100');
    const newer = streamRecord('MODIFY', second, '200');
    await db.client.send(new PutItemCommand({ TableName: TABLE, Item: second }));
    const handler = createStreamProcessor({ adapter, rules: [rule], logger: false, metrics: false });
    // Default load: no `load` option.
    const monitor = createConsistencyMonitor({ adapter, rules: [rule], graceMs: 0, confirmMs: 0, logger: false, metrics: false });

    await handler.process({ Records: [older, newer] });
    const caughtUp = await monitor.check({ Records: [older] });
    await handler.process({ Records: [older] }); // a replay of the old record, as a naive consumer would apply it
    const behind = await monitor.check({ Records: [newer] });

    expect(caughtUp).toMatchObject({ checked: 1, stale: 0, unchecked: 0 });
    expect(behind).toMatchObject({ checked: 1, stale: 1, unchecked: 0 });
  });

  it('finds the cached value of an item the table no longer holds', async () => {
    const adapter = memoryAdapter();
    const gone = item('gone', '7');
    await db.client.send(new PutItemCommand({ TableName: TABLE, Item: gone }));
    const record = streamRecord('INSERT', gone, '300');
    await createStreamProcessor({ adapter, rules: [rule], logger: false, metrics: false }).process({ Records: [record] });
    await db.client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: 'gone' } } }));
    const monitor = createConsistencyMonitor({ adapter, rules: [rule], graceMs: 0, confirmMs: 0, logger: false, metrics: false });

    // The record's own value is cached: consistent with the record, whatever the table says.
    expect(await monitor.check({ Records: [record] })).toMatchObject({ checked: 1, stale: 0 });
    await adapter.execute([{ kind: 'set', key: 'item:gone', value: '{"pk":{"S":"gone"},"big":{"N":"6"}}' }]);
    expect(await monitor.check({ Records: [record] })).toMatchObject({ checked: 1, stale: 1 });
  });
});
