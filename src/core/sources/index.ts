/**
 * The record sources, by name: the table `planCommands` consults for `options.source`.
 *
 * @module
 */
import type { ChangeDecoder, RecordSource } from '../change.js';
import { dynamodbStreamsChanges } from './dynamodb-streams.js';
import { kinesisChanges } from './kinesis.js';

export const RECORD_SOURCES: Readonly<Record<RecordSource, ChangeDecoder>> = {
  'dynamodb-streams': dynamodbStreamsChanges,
  kinesis: kinesisChanges,
};

export { dynamodbStreamsChanges, kinesisChanges };
export { tableFromArn } from './dynamodb-streams.js';
