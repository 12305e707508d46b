/**
 * The change records Kinesis Data Streams for DynamoDB writes (the JSON inside each Kinesis
 * record's `data`): no DynamoDB sequence number, the table in `tableName`, and records that
 * may arrive out of order or twice.
 *
 * @module
 */
import type { ChangeDecoder } from '../change.js';
import { decodeChangeRecord, type SourceFields } from './change-record.js';
import { tableFromArn } from './dynamodb-streams.js';

/**
 * Kinesis Data Streams for DynamoDB stamps records in microseconds (the default) or
 * milliseconds (`ApproximateCreationDateTimePrecision`); the lag metric wants seconds.
 */
function kinesisTimestampSeconds(value: number, precision: unknown): number {
  if (precision === 'MICROSECOND' || (precision === undefined && value > 1e14)) return value / 1e6;
  return value / 1e3;
}

const fields: SourceFields = {
  sequenceNumber: () => undefined,
  creationSeconds: (created, dynamodb) => kinesisTimestampSeconds(created, dynamodb['ApproximateCreationDateTimePrecision']),
  table: (record) => (typeof record['tableName'] === 'string' ? record['tableName'] : tableFromArn(record['eventSourceARN'])),
};

/** Decoder of the DynamoDB change payloads carried by Kinesis records. */
export const kinesisChanges: ChangeDecoder = {
  traits: { source: 'kinesis', label: 'Kinesis Data Streams', ordered: false, sequenceNumbers: false },
  decode: (record) => decodeChangeRecord(record, fields),
};
