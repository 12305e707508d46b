/**
 * The Lambda side: plan a batch, execute it with one adapter call, and answer Lambda with the
 * earliest record that did not fully apply, so Lambda retries from exactly there.
 *
 * @module
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { coalesceCommands } from '../core/coalesce.js';
import { supportsVersioned, type AnyCacheCommand, type CacheCommand, type CommandResult } from '../core/commands.js';
import { compileRules, planCommands, type PlannedRecord } from '../core/plan.js';
import { CacheUnavailableError, ConfigError, DdbCacheSyncError } from '../errors.js';
import { validateConfig, type StreamHandlerConfig } from './config.js';
import { deferUntilConfigured, type StreamHandlerConfigLoader } from './deferred-config.js';
import { createJsonLogger, describeError, silentLogger } from './logger.js';
import { emfDocument, type BatchMetrics } from './metrics.js';
import { dynamodbStreamsRecords, type RecordDecoder, type UnwrappedRecord } from './record-decoder.js';

export type { StreamHandlerConfigLoader } from './deferred-config.js';
export type { RecordDecoder } from './record-decoder.js';

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
  /**
   * Handle one Lambda event of the processor's source (a `DynamoDBStreamEvent`, or a
   * `KinesisStreamEvent` for the Kinesis processor). Typed `unknown` because the event is
   * checked at run time: anything else fails the batch with a logged error. Never throws for
   * cache or record errors.
   */
  process(event: unknown): Promise<ProcessResult>;
}

/** A Lambda handler for DynamoDB Streams event source mappings with `ReportBatchItemFailures`. */
export type StreamHandler = (event: DynamoDBStreamEvent, context?: unknown) => Promise<DynamoDBBatchResponse>;

function emptyMetrics(records: number): BatchMetrics {
  return {
    Records: records,
    Commands: 0,
    SetCommands: 0,
    DeleteCommands: 0,
    CoalescedCommands: 0,
    FailedCommands: 0,
    InvalidRecords: 0,
    SkippedRecords: 0,
    RetriedRecords: 0,
    StreamLagMs: undefined,
  };
}

function isPlain(command: AnyCacheCommand): command is CacheCommand {
  return command.kind === 'set' || command.kind === 'delete';
}

/** The commands of the records before `limit`, each with the index of the record it came from. */
function collectCommands(plans: readonly PlannedRecord[], limit: number, metrics: BatchMetrics): { commands: AnyCacheCommand[]; owners: number[] } {
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
  return { commands, owners };
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
  return buildProcessor(config, dynamodbStreamsRecords);
}

/** The processor behind every source. @internal */
export function buildProcessor(config: StreamHandlerConfig, decoder: RecordDecoder): StreamProcessor {
  const { traits } = decoder.changes;
  const {
    adapter,
    rules,
    onInvalidRecord = 'fail',
    ttlDeletes = 'apply',
    debugLogItemContents = false,
    maxKeysPerRecord,
  } = validateConfig(config, { source: traits.source });
  const compiled = compileRules(rules);
  const logger = config.logger === false ? silentLogger : (config.logger ?? createJsonLogger());
  const metricsOptions = config.metrics === false ? undefined : (config.metrics ?? {});
  const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
  const ruleTables = [...new Set(rules.map((r) => (r.table === undefined ? '(any)' : String(r.table))))];

  /**
   * A rule table that does not match the stream's table (`Users` for `User`) skips every record
   * silently but for a `SkippedRecords` count: say so once per table per invocation, in the
   * first log a developer reads. Names tables only, never item data.
   */
  function warnUnmatchedTables(plans: readonly PlannedRecord[]): void {
    const skipped = new Map<string, number>();
    for (const { unmatchedTable } of plans) {
      if (unmatchedTable !== undefined) skipped.set(unmatchedTable, (skipped.get(unmatchedTable) ?? 0) + 1);
    }
    for (const [table, records] of skipped) {
      logger.warn(`records of table ${table} match no rule's table and were skipped; check each rule's \`table\` (rules name: ${ruleTables.join(', ')})`, {
        table,
        ruleTables,
        records,
      });
    }
  }

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
      const error = new CacheUnavailableError(
        `adapter ${adapter.name} failed the batch: ${cause instanceof Error ? cause.message : String(cause)}`,
        { adapter: adapter.name },
        { cause },
      );
      return commands.map(() => ({ ok: false, error }));
    }
  }

  /** Unwrap and plan every record; a record whose envelope is unusable keeps that error. */
  function planBatch(records: readonly unknown[]): { plans: PlannedRecord[]; identifierOf: (index: number) => string | undefined } {
    // One pass over the records; the plans are copied only when some envelope was unusable.
    const unwrapped = new Array<UnwrappedRecord>(records.length);
    const payloads = new Array<unknown>(records.length);
    let unusable = false;
    for (let i = 0; i < records.length; i++) {
      const record = decoder.unwrap(records[i], i);
      unwrapped[i] = record;
      payloads[i] = record.payload;
      if (record.error !== undefined) unusable = true;
    }
    let plans = planCommands(payloads, compiled, { ttlDeletes, decoder: decoder.changes, maxKeysPerRecord });
    if (unusable) {
      plans = plans.map((plan, i): PlannedRecord => {
        const error = unwrapped[i]?.error;
        return error === undefined ? plan : { index: i, sequenceNumber: undefined, commands: [], error };
      });
    }
    const identifierOf = (index: number): string | undefined => {
      const record = unwrapped[index];
      const plan = plans[index];
      return record && plan ? decoder.itemIdentifier(record, plan) : undefined;
    };
    return { plans, identifierOf };
  }

  async function processEvent(event: unknown): Promise<ProcessResult> {
    const records = (event as { Records?: unknown } | null | undefined)?.Records;
    if (!Array.isArray(records)) {
      logger.error(`event is not a ${traits.label} event (no Records array); failing the whole batch`, { eventType: typeof event });
      // An empty itemIdentifier makes Lambda treat the whole batch as failed, without a throw.
      return { batchItemFailures: [{ itemIdentifier: '' }], records: [], failedIndex: 0, metrics: emptyMetrics(0) };
    }

    const { plans, identifierOf } = planBatch(records);
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

    if (metrics.SkippedRecords > 0) warnUnmatchedTables(plans);

    const planned = collectCommands(plans, failedIndex ?? plans.length, metrics);
    if (debugLogItemContents) logger.debug('planned commands', { commands: planned.commands.map((c) => ({ kind: c.kind, key: c.key })) });
    // Only each key's final effect is sent; a failed survivor is charged to the earliest record
    // whose effect it carries (see core/coalesce.ts).
    const { commands, owners, carries } = coalesceCommands(planned.commands, planned.owners);
    metrics.CoalescedCommands = planned.commands.length - commands.length;

    const results = await execute(commands);
    let firstError: unknown;
    results.forEach((result, i) => {
      if (result.ok) return;
      // Counted in planned commands, like Commands: a failed survivor fails every effect it carries.
      metrics.FailedCommands += carries[i] ?? 1;
      firstError ??= result.error;
      const owner = owners[i] as number;
      if (failedIndex === undefined || owner < failedIndex) failedIndex = owner;
    });
    if (metrics.FailedCommands > 0) {
      // A client that cannot even be loaded (a broken bundle, a missing peer) is a deployment
      // fault, not a cache outage: say so at ERROR so the first log read finds it.
      const configured = configErrorIn(firstError);
      const details = { failedCommands: metrics.FailedCommands, commands: commands.length, failedIndex, error: describeError(configured ?? firstError) };
      if (configured) logger.error('configuration error: the cache client could not be used; fix the bundle or the deployment, records are retried', details);
      else logger.warn('cache commands failed; reporting the earliest affected record for retry', details);
    }

    let batchItemFailures: { itemIdentifier: string }[] = [];
    if (failedIndex !== undefined) {
      metrics.RetriedRecords = plans.length - failedIndex;
      // A record without a usable SequenceNumber cannot be named; an empty identifier makes
      // Lambda retry the whole batch, which is the safe reading.
      batchItemFailures = [{ itemIdentifier: identifierOf(failedIndex) ?? '' }];
    }
    if (metricsOptions) emit(emfDocument(metrics, adapter.name, metricsOptions, now));
    logger.debug('batch processed', { records: records.length, commands: planned.commands.length, sent: commands.length, failedIndex });
    return { batchItemFailures, records: plans, failedIndex, metrics };
  }

  return { process: processEvent };
}

/**
 * Build the Lambda handler. Validates the config now (cold start) and throws
 * {@link ConfigError} naming each bad option; per invocation it never throws for cache or
 * record errors, answering with `batchItemFailures` instead.
 *
 * Given a function instead of a config (one that must fetch a secret first), the handler
 * calls it on the first invocation, validates and keeps the result for later invocations.
 * If it rejects or the config is invalid, that invocation fails (Lambda retries the batch),
 * the failure is logged as a configuration error, and the next invocation tries again.
 *
 * @example
 * ```ts
 * import { createStreamHandler, memoryAdapter } from 'ddb-cache-sync';
 * export const handler = createStreamHandler({
 *   adapter: memoryAdapter(),
 *   rules: [
 *     { table: 'App', when: (i) => i.type === 'User', key: (i) => `user:${i.pk}`, strategy: 'write-through', ttlSeconds: 300 },
 *     // Guarded: a user without an email must not produce the key `user-by-email:undefined`.
 *     { table: 'App', when: (i) => i.type === 'User' && typeof i.email === 'string', key: (i) => `user-by-email:${i.email}`, strategy: 'invalidate' },
 *   ],
 * });
 * ```
 *
 * @example
 * ```ts
 * // The config needs a secret: one call, set up on the first invocation.
 * export const handler = createStreamHandler(async () => ({
 *   adapter: redisAdapter({ url: await readCacheUrl(process.env.CACHE_SECRET_ARN) }),
 *   rules,
 * }));
 * ```
 */
export function createStreamHandler(config: StreamHandlerConfig | StreamHandlerConfigLoader): StreamHandler {
  if (typeof config === 'function') return deferUntilConfigured(config, createStreamHandler);
  const processor = createStreamProcessor(config);
  return async (event) => {
    const { batchItemFailures } = await processor.process(event);
    return { batchItemFailures };
  };
}

/** The ConfigError behind a failed command, if any (adapters wrap the client's load error). */
function configErrorIn(error: unknown): ConfigError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof ConfigError) return current;
  }
  return undefined;
}
