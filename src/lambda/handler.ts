/**
 * The Lambda side: plan a batch, execute it with one adapter call, and answer Lambda with the
 * earliest record that did not fully apply, so Lambda retries from exactly there.
 *
 * @module
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { supportsVersioned, type AnyCacheCommand, type CacheCommand, type CommandResult } from '../core/commands.js';
import { compileRules, planCommands, type PlannedRecord, type RecordSource } from '../core/plan.js';
import { CacheUnavailableError, DdbCacheSyncError, type InvalidRecordError } from '../errors.js';
import { validateConfig, type StreamHandlerConfig } from './config.js';
import { createJsonLogger, describeError, silentLogger } from './logger.js';
import { emfDocument, type BatchMetrics } from './metrics.js';

/** What {@link StreamProcessor.process} returns: Lambda's response plus what happened. */
export interface ProcessResult extends DynamoDBBatchResponse {
  /** The plan of each record, with its error if it could not be planned. */
  readonly records: readonly PlannedRecord[];
  /** Index of the earliest record reported for retry, or `undefined` when all applied. */
  readonly failedIndex: number | undefined;
  /** Counters for this batch (also emitted as EMF unless `metrics: false`). */
  readonly metrics: BatchMetrics;
}

/** A configured stream processor: call `process` from your own handler. */
export interface StreamProcessor {
  /** Handle one Lambda DynamoDB Streams event. Never throws for cache or record errors. */
  process(event: DynamoDBStreamEvent | unknown): Promise<ProcessResult>;
}

/** A Lambda handler for DynamoDB Streams event source mappings with `ReportBatchItemFailures`. */
export type StreamHandler = (event: DynamoDBStreamEvent, context?: unknown) => Promise<DynamoDBBatchResponse>;

function emptyMetrics(records: number): BatchMetrics {
  return {
    Records: records,
    Commands: 0,
    SetCommands: 0,
    DeleteCommands: 0,
    FailedCommands: 0,
    InvalidRecords: 0,
    SkippedRecords: 0,
    RetriedRecords: 0,
    StreamLagMs: undefined,
  };
}

/**
 * How a source's raw records become plannable records, and how each is named to Lambda.
 * @internal
 */
export interface RecordDecoder {
  readonly source: RecordSource;
  /** Decode the event's records: one payload (for the planner) and one identifier per record. */
  decode(records: readonly unknown[]): {
    readonly payloads: readonly unknown[];
    /** The `itemIdentifier` Lambda expects for record i; undefined when it has none. */
    readonly identifiers: readonly (string | undefined)[];
    /** A record that could not even be decoded (e.g. bad base64 or JSON). */
    readonly errors: readonly (InvalidRecordError | undefined)[];
  };
}

const dynamodbStreamsDecoder: RecordDecoder = {
  source: 'dynamodb-streams',
  decode: (records) => ({ payloads: records, identifiers: [], errors: [] }),
};

function isPlain(command: AnyCacheCommand): command is CacheCommand {
  return command.kind === 'set' || command.kind === 'delete';
}

/**
 * Build a stream processor from a config, validated now (throws {@link ConfigError}).
 * Use this inside a handler of your own and merge its `batchItemFailures` with yours.
 *
 * @example
 * ```ts
 * const cacheSync = createStreamProcessor({ adapter: redisAdapter({ url }), rules });
 * export const handler = async (event) => {
 *   const ours = await cacheSync.process(event);
 *   const theirs = await myOwnWork(event); // { batchItemFailures: [...] }
 *   return { batchItemFailures: [...ours.batchItemFailures, ...theirs.batchItemFailures] };
 * };
 * ```
 */
export function createStreamProcessor(config: StreamHandlerConfig): StreamProcessor {
  return buildProcessor(config, dynamodbStreamsDecoder);
}

/** The processor behind every source. @internal */
export function buildProcessor(config: StreamHandlerConfig, decoder: RecordDecoder): StreamProcessor {
  const { adapter, rules, onInvalidRecord = 'fail', ttlDeletes = 'apply', debugLogItemContents = false } = validateConfig(config);
  const compiled = compileRules(rules);
  const logger = config.logger === false ? silentLogger : (config.logger ?? createJsonLogger());
  const metricsOptions = config.metrics === false ? undefined : (config.metrics ?? {});
  const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

  async function run(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]> {
    if (supportsVersioned(adapter)) return adapter.execute(commands);
    const plain = commands.filter(isPlain);
    if (plain.length === commands.length) return adapter.execute(plain);
    // validateConfig refuses versioned rules on such adapters; this guards hand-built plans.
    const error = new DdbCacheSyncError(`adapter ${adapter.name} does not run versioned commands`);
    return commands.map(() => ({ ok: false, error }));
  }

  async function execute(commands: readonly AnyCacheCommand[]): Promise<CommandResult[]> {
    if (commands.length === 0) return [];
    try {
      const results = await run(commands);
      if (results.length === commands.length) return results;
      const error = new DdbCacheSyncError(`adapter ${adapter.name} returned ${results.length} results for ${commands.length} commands`);
      return commands.map((_, i) => results[i] ?? { ok: false, error });
    } catch (cause) {
      // An adapter that rejects has applied an unknown subset: count every command as failed.
      const error = new CacheUnavailableError(`adapter ${adapter.name} failed the batch: ${cause instanceof Error ? cause.message : String(cause)}`, { adapter: adapter.name }, { cause });
      return commands.map(() => ({ ok: false, error }));
    }
  }

  async function processEvent(event: unknown): Promise<ProcessResult> {
    const records = (event as { Records?: unknown } | null | undefined)?.Records;
    if (!Array.isArray(records)) {
      logger.error('event is not a DynamoDB Streams event (no Records array); failing the whole batch', { eventType: typeof event });
      // An empty itemIdentifier makes Lambda treat the whole batch as failed, without a throw.
      return { batchItemFailures: [{ itemIdentifier: '' }], records: [], failedIndex: 0, metrics: emptyMetrics(0) };
    }

    const decoded = decoder.decode(records);
    const plans = planCommands(decoded.payloads, compiled, { ttlDeletes, source: decoder.source }).map((plan, i): PlannedRecord => {
      const error = decoded.errors[i];
      return error === undefined ? plan : { index: i, sequenceNumber: undefined, commands: [], error };
    });
    const identifierOf = (index: number): string | undefined =>
      decoder.source === 'dynamodb-streams' ? plans[index]?.sequenceNumber : decoded.identifiers[index];
    const metrics = emptyMetrics(records.length);
    let failedIndex: number | undefined;
    const now = Date.now();

    for (const plan of plans) {
      if (plan.approximateCreationDateTime !== undefined) {
        const lag = Math.max(0, now - plan.approximateCreationDateTime * 1000);
        metrics.StreamLagMs = Math.max(metrics.StreamLagMs ?? 0, lag);
      }
      if (plan.skipped) metrics.SkippedRecords++;
      if (plan.error) {
        metrics.InvalidRecords++;
        logger.error(onInvalidRecord === 'fail' ? 'invalid record; reporting it for retry' : 'invalid record; skipped (onInvalidRecord: skip)', {
          error: describeError(plan.error),
        });
        // Under 'fail', Lambda retries from this record, so later records will come again:
        // executing them now would be wasted work.
        if (onInvalidRecord === 'fail' && failedIndex === undefined) failedIndex = plan.index;
      }
    }

    const limit = failedIndex ?? plans.length;
    const commands: AnyCacheCommand[] = [];
    const owners: number[] = [];
    for (let i = 0; i < limit; i++) {
      for (const command of (plans[i] as PlannedRecord).commands) {
        commands.push(command);
        owners.push(i);
        if (command.kind === 'set' || command.kind === 'set-versioned') metrics.SetCommands++;
        else metrics.DeleteCommands++;
      }
    }
    metrics.Commands = commands.length;
    if (debugLogItemContents) logger.debug('planned commands', { commands: commands.map((c) => ({ kind: c.kind, key: c.key })) });

    const results = await execute(commands);
    let firstError: unknown;
    results.forEach((result, i) => {
      if (result.ok) return;
      metrics.FailedCommands++;
      firstError ??= result.error;
      const owner = owners[i] as number;
      if (failedIndex === undefined || owner < failedIndex) failedIndex = owner;
    });
    if (metrics.FailedCommands > 0) {
      logger.warn('cache commands failed; reporting the earliest affected record for retry', {
        failedCommands: metrics.FailedCommands,
        commands: commands.length,
        failedIndex,
        error: describeError(firstError),
      });
    }

    let batchItemFailures: { itemIdentifier: string }[] = [];
    if (failedIndex !== undefined) {
      metrics.RetriedRecords = plans.length - failedIndex;
      // A record without a usable SequenceNumber cannot be named; an empty identifier makes
      // Lambda retry the whole batch, which is the safe reading.
      batchItemFailures = [{ itemIdentifier: identifierOf(failedIndex) ?? '' }];
    }
    if (metricsOptions) emit(emfDocument(metrics, adapter.name, metricsOptions, now));
    logger.debug('batch processed', { records: records.length, commands: commands.length, failedIndex });
    return { batchItemFailures, records: plans, failedIndex, metrics };
  }

  return { process: processEvent };
}

/**
 * Build the Lambda handler. Validates the config now (cold start) and throws
 * {@link ConfigError} naming each bad option; per invocation it never throws for cache or
 * record errors, answering with `batchItemFailures` instead.
 *
 * @example
 * ```ts
 * import { createStreamHandler, memoryAdapter } from 'ddb-cache-sync';
 * export const handler = createStreamHandler({
 *   adapter: memoryAdapter(),
 *   rules: [
 *     { table: 'App', when: (i) => i.type === 'User', key: (i) => `user:${i.pk}`, strategy: 'write-through', ttlSeconds: 300 },
 *     { table: 'App', when: (i) => i.type === 'User', key: (i) => `user-by-email:${i.email}`, strategy: 'invalidate' },
 *   ],
 * });
 * ```
 */
export function createStreamHandler(config: StreamHandlerConfig): StreamHandler {
  const processor = createStreamProcessor(config);
  return async (event) => {
    const { batchItemFailures } = await processor.process(event);
    return { batchItemFailures };
  };
}
