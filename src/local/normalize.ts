/**
 * Turn a record read with the AWS SDK's DynamoDB Streams client (as DynamoDB Local returns it)
 * into exactly the record shape Lambda's event source mapping delivers, so a handler sees the
 * same JSON locally as in production. Pure: no I/O.
 *
 * Differences it removes:
 * - binary (`B`, `BS`, also nested in `M`/`L`) arrives as `Uint8Array`; Lambda sends base64 strings;
 * - `ApproximateCreationDateTime` arrives as a `Date`; Lambda sends epoch seconds;
 * - `userIdentity` arrives as `{ PrincipalId, Type }`; Lambda sends `{ principalId, type }`;
 * - the record has no `eventSourceARN`; Lambda adds the stream ARN;
 * - DynamoDB Local labels Time to Live deletes `UNKNOWN_TO_SDK_VERSION`; DynamoDB sends `REMOVE`
 *   with the DynamoDB service as `userIdentity`.
 *
 * @module
 */
import type { _Record as SdkRecord, AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord, StreamRecord } from 'aws-lambda';
import { StreamReadError } from './errors.js';

/** The `userIdentity` DynamoDB puts on deletes performed by Time to Live. */
export const TTL_USER_IDENTITY = Object.freeze({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });

/** Options for {@link toLambdaRecord}. */
export interface NormalizeOptions {
  /** The stream ARN, copied into `eventSourceARN` (Lambda adds it; GetRecords does not). */
  readonly streamArn: string;
  /** Overrides `awsRegion`. Default: the record's own (`ddblocal` for DynamoDB Local). */
  readonly awsRegion?: string;
}

function base64(value: Uint8Array | string): string {
  if (typeof value === 'string') return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

/**
 * Convert one SDK AttributeValue to the Lambda event form (binary as base64, recursively).
 *
 * @example
 * ```ts
 * toLambdaAttributeValue({ B: new Uint8Array([1, 2]) }); // { B: 'AQI=' }
 * ```
 */
export function toLambdaAttributeValue(value: SdkAttributeValue): LambdaAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  throw new StreamReadError(`unsupported AttributeValue with keys ${JSON.stringify(Object.keys(value))}; update @aws-sdk/client-dynamodb-streams`);
}

/**
 * Convert an SDK image (`Keys`, `NewImage`, `OldImage`) to the Lambda event form.
 *
 * @example
 * ```ts
 * toLambdaImage({ pk: { S: 'u1' }, avatar: { B: new Uint8Array([255]) } });
 * // { pk: { S: 'u1' }, avatar: { B: '/w==' } }
 * ```
 */
export function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, LambdaAttributeValue> {
  const out: Record<string, LambdaAttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toLambdaAttributeValue(value);
  return out;
}

function epochSeconds(value: Date | number | string): number {
  if (typeof value === 'number') return value;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Math.floor(ms / 1000);
}

/**
 * Convert one record from `GetRecords` into the record Lambda delivers for a DynamoDB stream.
 * Keys appear in the order Lambda writes them, and absent fields are left out rather than
 * set to `undefined`, so `JSON.stringify` of the result matches a captured Lambda event.
 *
 * @throws {@link StreamReadError} for an event name other than INSERT/MODIFY/REMOVE (or the
 * Time to Live label) or an AttributeValue type this version does not know.
 *
 * @example
 * ```ts
 * const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator }));
 * const event = { Records: Records.map((r) => toLambdaRecord(r, { streamArn })) };
 * await handler(event);
 * ```
 */
export function toLambdaRecord(record: SdkRecord, options: NormalizeOptions): DynamoDBRecord {
  // The SDK types eventName as the three known values, but at run time unknown labels pass
  // through as plain strings.
  const rawEventName: string | undefined = record.eventName;
  let eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  let userIdentity: { type: string; principalId: string } | undefined;
  if (record.userIdentity !== undefined) {
    userIdentity = {
      type: record.userIdentity.Type ?? '',
      principalId: record.userIdentity.PrincipalId ?? '',
    };
  }
  switch (rawEventName) {
    case 'INSERT':
    case 'MODIFY':
    case 'REMOVE':
      eventName = rawEventName;
      break;
    case 'UNKNOWN_TO_SDK_VERSION':
      // DynamoDB Local reports Time to Live deletes this way; DynamoDB sends REMOVE by the service.
      eventName = 'REMOVE';
      userIdentity ??= { ...TTL_USER_IDENTITY };
      break;
    default:
      throw new StreamReadError(
        `record ${record.dynamodb?.SequenceNumber ?? record.eventID ?? '(no id)'} has eventName ${JSON.stringify(rawEventName)}; expected INSERT, MODIFY or REMOVE`,
      );
  }

  const source = record.dynamodb ?? {};
  const dynamodb: StreamRecord = {};
  if (source.ApproximateCreationDateTime !== undefined) {
    dynamodb.ApproximateCreationDateTime = epochSeconds(source.ApproximateCreationDateTime);
  }
  if (source.Keys !== undefined) dynamodb.Keys = toLambdaImage(source.Keys);
  if (source.NewImage !== undefined) dynamodb.NewImage = toLambdaImage(source.NewImage);
  if (source.OldImage !== undefined) dynamodb.OldImage = toLambdaImage(source.OldImage);
  if (source.SequenceNumber !== undefined) dynamodb.SequenceNumber = source.SequenceNumber;
  if (source.SizeBytes !== undefined) dynamodb.SizeBytes = source.SizeBytes;
  if (source.StreamViewType !== undefined) dynamodb.StreamViewType = source.StreamViewType;

  const out: DynamoDBRecord = {};
  if (record.eventID !== undefined) out.eventID = record.eventID;
  out.eventName = eventName;
  out.eventVersion = record.eventVersion ?? '1.1';
  out.eventSource = record.eventSource ?? 'aws:dynamodb';
  const awsRegion = options.awsRegion ?? record.awsRegion;
  if (awsRegion !== undefined) out.awsRegion = awsRegion;
  out.dynamodb = dynamodb;
  if (userIdentity !== undefined) out.userIdentity = userIdentity;
  out.eventSourceARN = options.streamArn;
  return out;
}
