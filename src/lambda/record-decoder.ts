/**
 * The record-source seam of the Lambda layer: how one Lambda record is taken apart into the
 * change payload the core decodes, and how Lambda names that record in `batchItemFailures`.
 * A new source is a new decoder; the processor never asks which source it runs.
 *
 * @module
 */
import type { ChangeDecoder } from '../core/change.js';
import type { PlannedRecord } from '../core/plan.js';
import { dynamodbStreamsChanges } from '../core/sources/index.js';
import type { InvalidRecordError } from '../errors.js';

/** One Lambda record, taken apart. */
export interface UnwrappedRecord {
  /** What `changes.decode` receives. */
  readonly payload: unknown;
  /** The record's own identifier in the Lambda event, when the envelope carries one. */
  readonly identifier: string | undefined;
  /** Set when the envelope itself is unusable (e.g. bad base64 or JSON). */
  readonly error?: InvalidRecordError;
}

/**
 * How a source's Lambda records become changes, and how each is named to Lambda.
 * @internal
 */
export interface RecordDecoder {
  /** Decodes each payload into a normalized change; its traits drive the config checks. */
  readonly changes: ChangeDecoder;
  unwrap(record: unknown, index: number): UnwrappedRecord;
  /** The `itemIdentifier` Lambda expects for a record; undefined when it has none. */
  itemIdentifier(record: UnwrappedRecord, plan: PlannedRecord): string | undefined;
}

/** DynamoDB Streams: the Lambda record is the change record, named by its `SequenceNumber`. */
export const dynamodbStreamsRecords: RecordDecoder = {
  changes: dynamodbStreamsChanges,
  unwrap: (record) => ({ payload: record, identifier: undefined }),
  itemIdentifier: (_record, plan) => plan.sequenceNumber,
};
