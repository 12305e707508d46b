/**
 * DynamoDB Streams records, as Lambda delivers them: `dynamodb.SequenceNumber` orders the
 * records of one item, and the table is named in `eventSourceARN`.
 *
 * @module
 */
import type { ChangeDecoder } from '../change.js';
import { fail } from '../failure.js';
import { decodeChangeRecord, type SourceFields } from './change-record.js';

const SEQUENCE = /^\d{1,128}$/;

const TABLE_IN_ARN = /:table\/([^/]+)/;
/** The last ARN parsed and its table: every record of a batch carries the same ARN. */
let lastArn: string | undefined;
let lastTable: string | undefined;

/** Table name from `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`. */
export function tableFromArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  if (arn !== lastArn) {
    lastTable = TABLE_IN_ARN.exec(arn)?.[1];
    lastArn = arn;
  }
  return lastTable;
}

const fields: SourceFields = {
  sequenceNumber(dynamodb) {
    const seq = dynamodb['SequenceNumber'];
    if (typeof seq !== 'string' || !SEQUENCE.test(seq)) fail('SequenceNumber is missing or not a decimal string', 'dynamodb.SequenceNumber');
    return seq;
  },
  creationSeconds: (created) => created,
  table: (record) => tableFromArn(record['eventSourceARN']),
};

/** Decoder of DynamoDB Streams records. */
export const dynamodbStreamsChanges: ChangeDecoder = {
  traits: { source: 'dynamodb-streams', label: 'DynamoDB Streams', ordered: true, sequenceNumbers: true },
  decode: (record) => decodeChangeRecord(record, fields),
};
