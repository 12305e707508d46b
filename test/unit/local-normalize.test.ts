import type { _Record as SdkRecord } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { StreamReadError } from '../../src/local/errors.js';
import { toLambdaAttributeValue, toLambdaImage, toLambdaRecord } from '../../src/local/normalize.js';

const streamArn = 'arn:aws:dynamodb:ddblocal:000000000000:table/App/stream/2026-11-27T18:18:21.598';

/** The fields a record carries unchanged from GetRecords into the Lambda event. */
const RECORD_FIELDS = {
  eventID: 'd79a4f12-4c4e-40f7-a283-4545947e5669',
  eventName: 'INSERT',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'ddblocal',
} as const;

const STREAM_FIELDS = {
  Keys: { pk: { S: 'u1' } },
  NewImage: { pk: { S: 'u1' }, n: { N: '42' } },
  SequenceNumber: '000000000000000000001',
  SizeBytes: 20,
  StreamViewType: 'NEW_AND_OLD_IMAGES',
} as const;

/** A record shaped like what the SDK returns from DynamoDB Local's GetRecords. */
function sdkRecord(overrides: Partial<SdkRecord> = {}): SdkRecord {
  return {
    ...RECORD_FIELDS,
    dynamodb: { ApproximateCreationDateTime: new Date('2026-11-27T18:18:00.000Z'), ...STREAM_FIELDS },
    ...overrides,
  };
}

describe('toLambdaRecord', () => {
  it('produces the Lambda event record, with the stream ARN and epoch seconds', () => {
    const out = toLambdaRecord(sdkRecord(), { streamArn });
    expect(out).toEqual({
      ...RECORD_FIELDS,
      dynamodb: { ApproximateCreationDateTime: 1795803480, ...STREAM_FIELDS },
      eventSourceARN: streamArn,
    });
  });

  it('writes keys in the order Lambda does and leaves absent fields out', () => {
    const json = JSON.stringify(toLambdaRecord(sdkRecord(), { streamArn }));
    expect(Object.keys(JSON.parse(json))).toEqual(['eventID', 'eventName', 'eventVersion', 'eventSource', 'awsRegion', 'dynamodb', 'eventSourceARN']);
    expect(json).not.toContain('OldImage');
    expect(json).not.toContain('userIdentity');
  });

  it('overrides awsRegion when asked', () => {
    expect(toLambdaRecord(sdkRecord(), { streamArn, awsRegion: 'eu-west-1' }).awsRegion).toBe('eu-west-1');
  });

  it('floors a Date with milliseconds to whole seconds and keeps numbers as they are', () => {
    const withMs = sdkRecord({ dynamodb: { ApproximateCreationDateTime: new Date(1_700_000_000_999) } });
    expect(toLambdaRecord(withMs, { streamArn }).dynamodb?.ApproximateCreationDateTime).toBe(1_700_000_000);
  });

  it('encodes binary as base64 in Keys, NewImage and OldImage, nested in maps and lists too', () => {
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const record = sdkRecord({
      eventName: 'MODIFY',
      dynamodb: {
        Keys: { id: { B: bytes } },
        NewImage: {
          id: { B: bytes },
          set: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
          deep: { M: { list: { L: [{ B: new Uint8Array([9]) }, { M: { bs: { BS: [new Uint8Array([7])] } } }] } } },
        },
        OldImage: { id: { B: bytes } },
        SequenceNumber: '2',
      },
    });
    const out = toLambdaRecord(record, { streamArn });
    expect(out.dynamodb?.Keys).toEqual({ id: { B: 'AAEC/f7/' } });
    expect(out.dynamodb?.OldImage).toEqual({ id: { B: 'AAEC/f7/' } });
    expect(out.dynamodb?.NewImage).toEqual({
      id: { B: 'AAEC/f7/' },
      set: { BS: ['AQ==', 'AgM='] },
      deep: { M: { list: { L: [{ B: 'CQ==' }, { M: { bs: { BS: ['Bw=='] } } }] } } },
    });
  });

  it('encodes a Uint8Array that is a view into a larger buffer by its own bytes only', () => {
    const backing = new Uint8Array([100, 101, 1, 2, 102]);
    expect(toLambdaAttributeValue({ B: backing.subarray(2, 4) })).toEqual({ B: 'AQI=' });
  });

  it('maps a Time to Live delete (UNKNOWN_TO_SDK_VERSION in DynamoDB Local) to REMOVE by the DynamoDB service', () => {
    const ttl = sdkRecord({
      // What DynamoDB Local puts on a TTL delete; not in the SDK's enum.
      eventName: 'UNKNOWN_TO_SDK_VERSION' as SdkRecord['eventName'],
      dynamodb: { Keys: { pk: { S: 'u1' } }, OldImage: { pk: { S: 'u1' } }, SequenceNumber: '9' },
    });
    const out = toLambdaRecord(ttl, { streamArn });
    expect(out.eventName).toBe('REMOVE');
    expect(out.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
  });

  it('keeps userIdentity when present, in the lower-case field names Lambda uses', () => {
    const out = toLambdaRecord(sdkRecord({ eventName: 'REMOVE', userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' } }), { streamArn });
    expect(out.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(Object.keys(out).indexOf('userIdentity')).toBe(Object.keys(out).indexOf('dynamodb') + 1);
  });

  it('rejects an event name it does not know, naming the record', () => {
    const odd = sdkRecord({ eventName: 'TRUNCATE' as SdkRecord['eventName'] });
    expect(() => toLambdaRecord(odd, { streamArn })).toThrow(StreamReadError);
    expect(() => toLambdaRecord(odd, { streamArn })).toThrow(/000000000000000000001.*TRUNCATE/);
  });

  it('copies every scalar and set type unchanged', () => {
    const image = {
      s: { S: 'x' },
      n: { N: '1.5' },
      ss: { SS: ['a'] },
      ns: { NS: ['1'] },
      nul: { NULL: true },
      t: { BOOL: false },
      e: { L: [] },
      m: { M: {} },
    };
    // A copy goes in, so a conversion that mutated or returned its input could not pass by identity.
    expect(toLambdaImage(structuredClone(image))).toEqual(image);
  });

  it('rejects an AttributeValue type it does not know', () => {
    expect(() => toLambdaAttributeValue({ $unknown: ['X', 1] } as never)).toThrow(StreamReadError);
  });
});
