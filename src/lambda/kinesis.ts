/**
 * Kinesis Data Streams for DynamoDB as a source. The table writes change records into a
 * Kinesis stream; each Lambda record carries one of them as base64 JSON in `kinesis.data`.
 *
 * Unlike DynamoDB Streams, these records may arrive out of order and more than once, and they
 * carry no DynamoDB `SequenceNumber`. `ApproximateCreationDateTime` (micro- or milliseconds) is
 * no substitute: two writes to one item within the same tick share it, and it is approximate,
 * so it can neither order them nor tell a duplicate from a distinct write. Hence this source
 * accepts only rules whose result does not depend on order: `versioned` with a version
 * attribute the application increases on every write, and `invalidate` (deletes commute).
 *
 * @module
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { isObject } from '../core/guards.js';
import { kinesisChanges } from '../core/sources/index.js';
import { InvalidRecordError } from '../errors.js';
import type { StreamHandlerConfig } from './config.js';
import { deferUntilConfigured, type StreamHandlerConfigLoader } from './deferred-config.js';
import { buildProcessor, type StreamProcessor } from './handler.js';
import type { RecordDecoder, UnwrappedRecord } from './record-decoder.js';

/** A Lambda handler for Kinesis event source mappings with `ReportBatchItemFailures`. */
export type KinesisStreamHandler = (event: KinesisStreamEvent, context?: unknown) => Promise<KinesisStreamBatchResponse>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Take one Lambda Kinesis record apart into its DynamoDB change payload. */
function unwrap(record: unknown, index: number): UnwrappedRecord {
  const kinesis = isObject(record) ? record['kinesis'] : undefined;
  const sequence = isObject(kinesis) && typeof kinesis['sequenceNumber'] === 'string' ? kinesis['sequenceNumber'] : undefined;
  const bad = (reason: string, field: string, cause?: unknown): UnwrappedRecord => ({
    payload: undefined,
    identifier: sequence,
    error: new InvalidRecordError(reason, { sequenceNumber: sequence, index, field }, { cause }),
  });
  if (!isObject(kinesis)) return bad('record has no kinesis object; is this a Kinesis event?', 'kinesis');
  if (sequence === undefined) return bad('kinesis.sequenceNumber is missing', 'kinesis.sequenceNumber');
  const data = kinesis['data'];
  if (typeof data !== 'string' || !BASE64.test(data)) return bad('kinesis.data is not a base64 string', 'kinesis.data');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch (error) {
    return bad('kinesis.data is not JSON; is this stream fed by a DynamoDB table (Kinesis Data Streams for DynamoDB)?', 'kinesis.data', error);
  }
  if (!isObject(payload) || !isObject(payload['dynamodb'])) {
    return bad('kinesis.data holds no DynamoDB change record (no dynamodb object)', 'kinesis.data');
  }
  return { payload, identifier: sequence };
}

/** Kinesis records: base64 JSON change records, named by `kinesis.sequenceNumber`. */
const kinesisRecords: RecordDecoder = {
  changes: kinesisChanges,
  unwrap,
  itemIdentifier: (record) => record.identifier,
};

/**
 * A stream processor for Kinesis Data Streams for DynamoDB events. Failures are reported by
 * `kinesis.sequenceNumber`, the earliest failed record first, as Lambda expects.
 *
 * @example
 * ```ts
 * const sync = createKinesisStreamProcessor({
 *   adapter: redisAdapter({ url }),
 *   rules: [{ table: 'App', key: (i) => `user:${i.pk}`, strategy: 'versioned', version: { attribute: 'version' } }],
 * });
 * export const handler = async (event) => ({ batchItemFailures: (await sync.process(event)).batchItemFailures });
 * ```
 */
export function createKinesisStreamProcessor(config: StreamHandlerConfig): StreamProcessor {
  // Validation (in buildProcessor) refuses rules whose result depends on record order.
  return buildProcessor(config, kinesisRecords);
}

/**
 * The Lambda handler for a Kinesis event source mapping (with `ReportBatchItemFailures`) on a
 * stream that a DynamoDB table feeds. Validates the config at cold start; given a function
 * returning the config, on the first invocation instead (see {@link createStreamHandler}).
 *
 * @example
 * ```ts
 * import { createKinesisStreamHandler } from 'ddb-cache-sync';
 * export const handler = createKinesisStreamHandler({
 *   adapter: redisAdapter({ url: process.env.REDIS_URL }),
 *   rules: [{ table: 'App', key: (i) => `user:${i.pk}`, strategy: 'versioned', version: { attribute: 'version' } }],
 * });
 * ```
 */
export function createKinesisStreamHandler(config: StreamHandlerConfig | StreamHandlerConfigLoader): KinesisStreamHandler {
  if (typeof config === 'function') return deferUntilConfigured(config, createKinesisStreamHandler);
  const processor = createKinesisStreamProcessor(config);
  return async (event) => {
    const { batchItemFailures } = await processor.process(event);
    return { batchItemFailures };
  };
}
