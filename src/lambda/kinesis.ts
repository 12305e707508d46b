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
import { ConfigError, InvalidRecordError } from '../errors.js';
import { validateConfig, type StreamHandlerConfig } from './config.js';
import { buildProcessor, type RecordDecoder, type StreamProcessor } from './handler.js';

/** A Lambda handler for Kinesis event source mappings with `ReportBatchItemFailures`. */
export type KinesisStreamHandler = (event: KinesisStreamEvent, context?: unknown) => Promise<KinesisStreamBatchResponse>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode one Lambda Kinesis record into its DynamoDB change payload. */
function decodeOne(record: unknown, index: number): { payload: unknown; identifier: string | undefined; error?: InvalidRecordError } {
  const kinesis = isObject(record) ? record['kinesis'] : undefined;
  const sequence = isObject(kinesis) && typeof kinesis['sequenceNumber'] === 'string' ? kinesis['sequenceNumber'] : undefined;
  const bad = (reason: string, field: string, cause?: unknown) => ({
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

const kinesisDecoder: RecordDecoder = {
  source: 'kinesis',
  decode(records) {
    const decoded = records.map(decodeOne);
    return {
      payloads: decoded.map((d) => d.payload),
      identifiers: decoded.map((d) => d.identifier),
      errors: decoded.map((d) => d.error),
    };
  },
};

/** Refuse rules whose result would depend on the (unreliable) order of Kinesis records. */
function checkKinesisRules(config: StreamHandlerConfig): void {
  const issues: string[] = [];
  config.rules.forEach((rule, i) => {
    if (rule.strategy === 'write-through') {
      issues.push(
        `rules[${i}].strategy: write-through is unsafe with Kinesis Data Streams, whose records can arrive out of order and twice (an older image would overwrite a newer one); use strategy 'versioned' with version: { attribute: '...' }, or 'invalidate'`,
      );
    }
    if (rule.strategy === 'versioned' && rule.version === 'sequenceNumber') {
      issues.push(`rules[${i}].version: Kinesis records carry no DynamoDB SequenceNumber; use version: { attribute: '...' } with an attribute you increase on every write`);
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);
}

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
  checkKinesisRules(validateConfig(config));
  return buildProcessor(config, kinesisDecoder);
}

/**
 * The Lambda handler for a Kinesis event source mapping (with `ReportBatchItemFailures`) on a
 * stream that a DynamoDB table feeds. Validates the config at cold start.
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
export function createKinesisStreamHandler(config: StreamHandlerConfig): KinesisStreamHandler {
  const processor = createKinesisStreamProcessor(config);
  return async (event) => {
    const { batchItemFailures } = await processor.process(event);
    return { batchItemFailures };
  };
}
