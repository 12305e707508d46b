/**
 * The DynamoDB change record (`eventName`, `dynamodb.{Keys,NewImage,OldImage}`, `userIdentity`)
 * that both DynamoDB Streams and Kinesis Data Streams for DynamoDB deliver. What differs by
 * source (sequence number, table, timestamp unit) comes in as {@link SourceFields}.
 *
 * @module
 */
import { AttributeError, type Image, LazyImage } from '../attributes.js';
import type { ChangeImages, EventName, StreamChange } from '../change.js';
import { fail, PlanFailure } from '../failure.js';
import { isObject } from '../guards.js';

/** How one source reads the fields it carries differently. */
export interface SourceFields {
  /** The sequence number, or undefined for a source without one; fails if malformed. */
  sequenceNumber(dynamodb: Record<string, unknown>): string | undefined;
  /** `ApproximateCreationDateTime` in epoch seconds. */
  creationSeconds(created: number, dynamodb: Record<string, unknown>): number;
  table(record: Record<string, unknown>): string | undefined;
}

const EVENT_NAMES = new Set(['INSERT', 'MODIFY', 'REMOVE']);

/** DynamoDB's Time to Live deletes are REMOVEs made by the service principal. */
function isTtlDelete(record: Record<string, unknown>): boolean {
  const identity = record['userIdentity'];
  if (!isObject(identity)) return false;
  return identity['type'] === 'Service' && identity['principalId'] === 'dynamodb.amazonaws.com';
}

function eventNameOf(record: Record<string, unknown>): EventName {
  const eventName = record['eventName'];
  if (typeof eventName !== 'string' || !EVENT_NAMES.has(eventName)) {
    fail(
      `eventName ${JSON.stringify(eventName)} is not INSERT, MODIFY or REMOVE` +
        (eventName === 'UNKNOWN_TO_SDK_VERSION' ? ' (DynamoDB Local labels TTL deletes so; normalize records to the Lambda event shape first)' : ''),
      'eventName',
    );
  }
  return eventName as EventName;
}

function imagesOf(dynamodb: Record<string, unknown>, eventName: EventName): ChangeImages {
  const convert = (field: 'Keys' | 'NewImage' | 'OldImage'): Image | undefined => {
    const value = dynamodb[field];
    if (value === undefined || value === null) return undefined;
    try {
      // Attributes are converted when a rule reads them (see docs/codecs.md); only the map's shape is checked here.
      return new LazyImage(value, `dynamodb.${field}`);
    } catch (error) {
      if (error instanceof AttributeError) fail(error.message, error.path);
      throw error;
    }
  };
  const keys = convert('Keys');
  if (keys === undefined) fail('record has no Keys', 'dynamodb.Keys');
  return {
    keys,
    newImage: eventName === 'REMOVE' ? undefined : convert('NewImage'),
    oldImage: eventName === 'INSERT' ? undefined : convert('OldImage'),
  };
}

/** Decode a change record; throws a plan failure that keeps whatever was read before. */
export function decodeChangeRecord(raw: unknown, fields: SourceFields): StreamChange {
  if (!isObject(raw)) fail('record is not an object');
  const dynamodb = raw['dynamodb'];
  if (!isObject(dynamodb)) {
    if (raw['eventSource'] === 'aws:kinesis')
      fail('this is a Kinesis record; use createKinesisStreamHandler for Kinesis Data Streams for DynamoDB', 'eventSource');
    fail('record has no dynamodb object; is this a DynamoDB Streams event?', 'dynamodb');
  }
  const sequenceNumber = fields.sequenceNumber(dynamodb);
  const created = dynamodb['ApproximateCreationDateTime'];
  const approximateCreationDateTime = typeof created === 'number' && Number.isFinite(created) ? fields.creationSeconds(created, dynamodb) : undefined;
  try {
    const eventName = eventNameOf(raw);
    const view = dynamodb['StreamViewType'];
    let images: ChangeImages | undefined;
    return {
      sequenceNumber,
      approximateCreationDateTime,
      eventName,
      table: fields.table(raw),
      view: typeof view === 'string' ? view : undefined,
      ttlDelete: eventName === 'REMOVE' && isTtlDelete(raw),
      images: () => (images ??= imagesOf(dynamodb, eventName)),
    };
  } catch (error) {
    if (error instanceof PlanFailure) throw new PlanFailure(error.failure, { sequenceNumber, approximateCreationDateTime });
    throw error;
  }
}
