/**
 * Small factories for Lambda-shaped DynamoDB Streams records, so tests state only what
 * matters to them.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { AttributeMap } from '../../src/core/rules.js';

let sequence = 100_000_000_000_000_000_000n;

export const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/App/stream/2026-01-01T00:00:00.000';

export function arnFor(table: string): string {
  return `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/stream/2026-01-01T00:00:00.000`;
}

type Plain = Record<string, string | number | boolean | null>;

/** Marshal a flat plain object (strings, numbers, booleans, null) into an AttributeMap. */
export function av(item: Plain): AttributeMap {
  const out: AttributeMap = {};
  for (const [k, v] of Object.entries(item)) {
    if (typeof v === 'string') out[k] = { S: v };
    else if (typeof v === 'number') out[k] = { N: String(v) };
    else if (typeof v === 'boolean') out[k] = { BOOL: v };
    else out[k] = { NULL: true };
  }
  return out;
}

export interface RecordOptions {
  keys?: Plain;
  table?: string;
  view?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';
  sequenceNumber?: string;
  ttl?: boolean;
  createdAt?: number;
}

function base(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', keys: Plain, options: RecordOptions): DynamoDBRecord {
  sequence += 100n;
  return {
    eventID: `evt-${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: arnFor(options.table ?? 'App'),
    ...(options.ttl ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
    dynamodb: {
      ApproximateCreationDateTime: options.createdAt ?? Math.floor(Date.now() / 1000),
      Keys: av(keys) as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
      SequenceNumber: options.sequenceNumber ?? String(sequence),
      SizeBytes: 100,
      StreamViewType: options.view ?? 'NEW_AND_OLD_IMAGES',
    },
  };
}

const keysOf = (item: Plain, options: RecordOptions): Plain => options.keys ?? { pk: item['pk'] ?? null };

function withImages(record: DynamoDBRecord, images: { NewImage?: Plain; OldImage?: Plain }, view: RecordOptions['view']): DynamoDBRecord {
  const v = view ?? 'NEW_AND_OLD_IMAGES';
  const ddb = record.dynamodb ?? {};
  if (images.NewImage && (v === 'NEW_AND_OLD_IMAGES' || v === 'NEW_IMAGE')) ddb.NewImage = av(images.NewImage) as typeof ddb.NewImage;
  if (images.OldImage && (v === 'NEW_AND_OLD_IMAGES' || v === 'OLD_IMAGE')) ddb.OldImage = av(images.OldImage) as typeof ddb.OldImage;
  return { ...record, dynamodb: ddb };
}

export function insert(item: Plain, options: RecordOptions = {}): DynamoDBRecord {
  return withImages(base('INSERT', keysOf(item, options), options), { NewImage: item }, options.view);
}

export function modify(oldItem: Plain, newItem: Plain, options: RecordOptions = {}): DynamoDBRecord {
  return withImages(base('MODIFY', keysOf(newItem, options), options), { NewImage: newItem, OldImage: oldItem }, options.view);
}

export function remove(oldItem: Plain, options: RecordOptions = {}): DynamoDBRecord {
  return withImages(base('REMOVE', keysOf(oldItem, options), options), { OldImage: oldItem }, options.view);
}

export function event(...records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}
