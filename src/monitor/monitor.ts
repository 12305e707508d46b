/**
 * The consistency monitor: a second consumer of the change stream that checks, `graceMs` after
 * each write, that the cache holds nothing older than that write.
 *
 * @module
 */
import type { DynamoDBBatchResponse } from 'aws-lambda';
import { supportsVersioned, type AnyCacheCommand } from '../core/commands.js';
import { compileRules, planCommands, tableFromArn, type CompiledRule } from '../core/plan.js';
import type { AttributeMap, KeyRule, Rule } from '../core/rules.js';
import { DEFAULT_TOMBSTONE_TTL_SECONDS } from '../core/plan.js';
import { keyHash } from '../core/key-hash.js';
import { createJsonLogger, describeError, silentLogger } from '../lambda/logger.js';
import { defaultEquals, dueAt, judgeCached, judgeWithTable, type CacheEquals, type KeyExpectation, type StaleReason, type Verdict } from './judge.js';
import { dynamodbLoader } from './load.js';
import { monitorEmfDocument, type MonitorMetrics } from './metrics.js';
import { validateMonitorOptions, type ConsistencyMonitorOptions } from './options.js';

/** One stale key, as logged: the rule, a hash of the key, ages; never the key or a value. */
export interface StaleFinding {
  readonly rule: string;
  /** First 16 hex digits of the key's SHA-256: correlates log lines without exposing the key. */
  readonly keyHash: string;
  readonly reason: StaleReason;
  /** The record's sequence number. */
  readonly sequenceNumber: string | undefined;
  /** Age of the record when the stale value was confirmed. */
  readonly recordAgeMs: number | undefined;
  /** True when `repair` deleted the key. */
  readonly repaired: boolean;
}

/** What {@link ConsistencyMonitor.check} found in one batch. */
export interface MonitorReport {
  /** Keys judged consistent or stale. */
  readonly checked: number;
  /** Keys holding a value older than their record, `graceMs` after it. */
  readonly stale: number;
  /** Keys whose cache or table read failed: counted neither consistent nor stale. */
  readonly unchecked: number;
  /** Stale keys that `repair` deleted. */
  readonly repaired: number;
  /** Every counter, as emitted in the EMF line. */
  readonly metrics: MonitorMetrics;
  /** The stale keys, described without their contents. */
  readonly findings: readonly StaleFinding[];
}

/** A configured monitor. */
export interface ConsistencyMonitor {
  /** Check one DynamoDB Streams event's keys. Never throws; failed reads count as unchecked. */
  check(event: unknown, context?: LambdaTimeContext): Promise<MonitorReport>;
  /** A Lambda handler for a second event source mapping on the same stream. Never asks for a retry. */
  readonly handler: (event: unknown, context?: unknown) => Promise<DynamoDBBatchResponse>;
}

/** The part of Lambda's context the monitor reads: the remaining time, to skip a wait it cannot finish. */
export interface LambdaTimeContext {
  getRemainingTimeInMillis(): number;
}

export { keyHash } from '../core/key-hash.js';

interface Target {
  readonly compiled: CompiledRule;
  readonly twin: CompiledRule;
  readonly key: string;
  readonly record: Record<string, unknown>;
  readonly expectation: KeyExpectation;
  readonly sequenceNumber: string | undefined;
  readonly created: number | undefined;
}

/**
 * A rule's write-through twin: the same keys, projection, transform and codec. It says what the
 * rule stores for an image (or, for `invalidate`, what a reader would fill): the planner stays
 * the single source of truth for encodings.
 */
function twinOf(compiled: CompiledRule): CompiledRule {
  const rule: Rule = {
    ...(compiled.rule as KeyRule),
    strategy: 'write-through',
    version: undefined,
    writes: undefined,
    tombstoneTtlSeconds: undefined,
    ttlSeconds: undefined,
  };
  const [twin] = compileRules([rule]);
  return { ...(twin as CompiledRule), name: compiled.name };
}

function setValueFor(commands: readonly AnyCacheCommand[], key: string): string | undefined {
  for (const command of commands) if (command.key === key && (command.kind === 'set' || command.kind === 'set-versioned')) return command.value;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The record as if the table's current item had just been inserted: what the rule would store for it. */
function asInsert(record: Record<string, unknown>, item: AttributeMap): Record<string, unknown> {
  const ddb = isObject(record['dynamodb']) ? record['dynamodb'] : {};
  const { OldImage: _old, ...rest } = ddb;
  return { ...record, eventName: 'INSERT', userIdentity: undefined, dynamodb: { ...rest, NewImage: item, StreamViewType: 'NEW_AND_OLD_IMAGES' } };
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function emptyMetrics(records: number): MonitorMetrics {
  return {
    Records: records,
    SampledRecords: 0,
    CheckedKeys: 0,
    StaleKeys: 0,
    UncheckedKeys: 0,
    RepairedKeys: 0,
    InvalidRecords: 0,
    StreamLagMs: undefined,
    StaleAgeMs: undefined,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Build a consistency monitor from the handler's config plus the monitor's options (validated
 * now; throws `ConfigError`). Deploy `monitor.handler` on a second event source mapping of the
 * same stream, and alarm on `StaleKeys` (see docs/monitor.md).
 *
 * @example
 * ```ts
 * import { createConsistencyMonitor } from 'ddb-cache-sync/monitor';
 * import { redisAdapter } from 'ddb-cache-sync/redis';
 * const monitor = createConsistencyMonitor({ adapter: redisAdapter({ url }), rules, graceMs: 10_000, sampleRate: 0.05 });
 * export const handler = monitor.handler;
 * ```
 */
export function createConsistencyMonitor(options: ConsistencyMonitorOptions): ConsistencyMonitor {
  const { config, monitor } = validateMonitorOptions(options);
  const { adapter, ttlDeletes = 'apply' } = config;
  // A tags rule writes tag states, not items: there is no table value to compare them with.
  const compiled = compileRules(config.rules).filter(({ rule }) => rule.strategy !== 'tags');
  const twins = compiled.map(twinOf);
  const load = monitor.load ?? dynamodbLoader();
  const logger = config.logger === false ? silentLogger : (config.logger ?? createJsonLogger());
  const metricsOptions = config.metrics === false ? undefined : (config.metrics ?? {});
  const equalsFor = (rule: CompiledRule): CacheEquals => monitor.equals ?? defaultEquals(rule.codec);

  function targetsOf(records: readonly Record<string, unknown>[], metrics: MonitorMetrics): Target[] {
    const targets = new Map<string, Target>();
    const invalid = new Set<number>();
    compiled.forEach((rule, r) => {
      const twin = twins[r] as CompiledRule;
      const plans = planCommands(records, [rule], { ttlDeletes });
      const twinPlans = planCommands(records, [twin], { ttlDeletes });
      for (const plan of plans) {
        if (plan.error) {
          if (!invalid.has(plan.index)) logger.warn('monitor: record cannot be planned; not checked', { error: describeError(plan.error) });
          invalid.add(plan.index);
          continue;
        }
        const record = records[plan.index] as Record<string, unknown>;
        const twinCommands = twinPlans[plan.index]?.commands ?? [];
        for (const command of plan.commands) {
          const version = command.kind === 'set-versioned' || command.kind === 'delete-versioned' ? command.version : undefined;
          // A later record on the same key supersedes an earlier one: checking it covers both.
          targets.set(`${r}\u0000${command.key}`, {
            compiled: rule,
            twin,
            key: command.key,
            record,
            sequenceNumber: plan.sequenceNumber,
            created: plan.approximateCreationDateTime,
            expectation: {
              rule: rule.name,
              recordValue: setValueFor(twinCommands, command.key),
              ...(version === undefined ? {} : { version }),
              removes: record['eventName'] === 'REMOVE',
            },
          });
        }
      }
    });
    metrics.InvalidRecords = invalid.size;
    return [...targets.values()];
  }

  /** What the rule would store at `target.key` for the table's current item. */
  async function tableValue(target: Target, loads: Map<Record<string, unknown>, Promise<AttributeMap | undefined>>): Promise<string | undefined> {
    let pending = loads.get(target.record);
    if (pending === undefined) {
      const ddb = target.record['dynamodb'];
      const keys = isObject(ddb) && isObject(ddb['Keys']) ? (ddb['Keys'] as AttributeMap) : undefined;
      const table = tableFromArn(target.record['eventSourceARN']);
      if (keys === undefined || table === undefined) throw new Error('record has no Keys or no table in eventSourceARN');
      pending = load(table, keys);
      loads.set(target.record, pending);
    }
    const item = await pending;
    if (item === undefined) return undefined;
    const [plan] = planCommands([asInsert(target.record, item)], [target.twin], { ttlDeletes });
    if (plan?.error) throw plan.error;
    return setValueFor(plan?.commands ?? [], target.key);
  }

  async function judge(target: Target, loads: Map<Record<string, unknown>, Promise<AttributeMap | undefined>>): Promise<Verdict> {
    const equals = equalsFor(target.compiled);
    const stored = await adapter.get(target.key);
    const first = judgeCached(stored, target.expectation, equals);
    if (first.kind !== 'needs-table') return first;
    return judgeWithTable(stored, target.expectation, await tableValue(target, loads), equals);
  }

  async function repair(target: Target): Promise<boolean> {
    const { version } = target.expectation;
    const command: AnyCacheCommand =
      version !== undefined && supportsVersioned(adapter)
        ? { kind: 'delete-versioned', key: target.key, version, tombstoneTtlSeconds: target.compiled.rule.tombstoneTtlSeconds ?? DEFAULT_TOMBSTONE_TTL_SECONDS }
        : { kind: 'delete', key: target.key };
    try {
      const [result] = supportsVersioned(adapter)
        ? await adapter.execute([command])
        : command.kind === 'delete'
          ? await adapter.execute([command])
          : [undefined];
      if (result?.ok) return true;
      logger.warn('monitor: repair of a stale key failed', {
        rule: target.compiled.name,
        keyHash: keyHash(target.key),
        error: describeError(result?.ok === false ? result.error : undefined),
      });
    } catch (error) {
      logger.warn('monitor: repair of a stale key failed', { rule: target.compiled.name, keyHash: keyHash(target.key), error: describeError(error) });
    }
    return false;
  }

  async function check(event: unknown, context?: LambdaTimeContext): Promise<MonitorReport> {
    const received = Date.now();
    const raw = (event as { Records?: unknown } | null | undefined)?.Records;
    const records = Array.isArray(raw) ? raw.filter(isObject) : [];
    const metrics = emptyMetrics(records.length);
    const findings: StaleFinding[] = [];
    // A failed read proves nothing either way: counted apart, never as stale or consistent.
    const leaveUnchecked = (target: Target, error: unknown): void => {
      metrics.UncheckedKeys++;
      logger.warn('monitor: key left unchecked (a cache or table read failed)', {
        rule: target.compiled.name,
        keyHash: keyHash(target.key),
        error: describeError(error),
      });
    };
    if (!Array.isArray(raw)) logger.error('monitor: event is not a DynamoDB Streams event (no Records array); nothing checked', { eventType: typeof event });
    const sampled = monitor.sampleRate >= 1 ? records : records.filter(() => Math.random() < monitor.sampleRate);
    metrics.SampledRecords = sampled.length;
    const targets = targetsOf(sampled, metrics);

    let due = received;
    for (const record of records) {
      const created = (record['dynamodb'] as { ApproximateCreationDateTime?: unknown } | undefined)?.ApproximateCreationDateTime;
      if (typeof created === 'number') metrics.StreamLagMs = Math.max(metrics.StreamLagMs ?? 0, received - created * 1000);
    }
    for (const target of targets) due = Math.max(due, dueAt(target.created, monitor.graceMs, received));
    const wait = due - Date.now();
    const remaining = context?.getRemainingTimeInMillis();
    if (remaining !== undefined && wait > 0 && wait + 1_000 > remaining) {
      // Checking before the grace would report the handler's normal lag as staleness.
      logger.warn('monitor: the grace outlasts the invocation; keys left unchecked (raise the function timeout above graceMs)', {
        waitMs: wait,
        remainingMs: remaining,
      });
      metrics.UncheckedKeys = targets.length;
    } else {
      if (wait > 0) {
        logger.debug('monitor: waiting for the grace', { waitMs: wait, keys: targets.length });
        await sleep(wait);
      }
      const first = new Map<Record<string, unknown>, Promise<AttributeMap | undefined>>();
      const suspects: Target[] = [];
      await mapLimit(targets, monitor.concurrency, async (target) => {
        try {
          const verdict = await judge(target, first);
          if (verdict.kind === 'stale') suspects.push(target);
          else metrics.CheckedKeys++;
        } catch (error) {
          leaveUnchecked(target, error);
        }
      });
      if (suspects.length > 0 && monitor.confirmMs > 0) await sleep(monitor.confirmMs);
      // The confirming re-read reads the cache and the table again: a write that landed between
      // the first cache read and the table read must not count as stale.
      const second = new Map<Record<string, unknown>, Promise<AttributeMap | undefined>>();
      await mapLimit(suspects, monitor.concurrency, async (target) => {
        try {
          const verdict = await judge(target, second);
          metrics.CheckedKeys++;
          if (verdict.kind !== 'stale') return;
          metrics.StaleKeys++;
          const ageMs = target.created === undefined ? undefined : Math.max(0, Date.now() - target.created * 1000);
          if (ageMs !== undefined) metrics.StaleAgeMs = Math.max(metrics.StaleAgeMs ?? 0, ageMs);
          const repaired = monitor.repair ? await repair(target) : false;
          if (repaired) metrics.RepairedKeys++;
          const finding: StaleFinding = {
            rule: target.compiled.name,
            keyHash: keyHash(target.key),
            reason: verdict.reason,
            sequenceNumber: target.sequenceNumber,
            recordAgeMs: ageMs,
            repaired,
          };
          findings.push(finding);
          logger.error('monitor: stale cache key', { ...finding });
        } catch (error) {
          leaveUnchecked(target, error);
        }
      });
    }
    if (metricsOptions) process.stdout.write(`${JSON.stringify(monitorEmfDocument(metrics, adapter.name, metricsOptions, Date.now()))}\n`);
    return { checked: metrics.CheckedKeys, stale: metrics.StaleKeys, unchecked: metrics.UncheckedKeys, repaired: metrics.RepairedKeys, metrics, findings };
  }

  const safeCheck = (event: unknown, context?: LambdaTimeContext): Promise<MonitorReport> =>
    check(event, context).catch((error: unknown) => {
      // The monitor must never hold a shard back: an unexpected failure is logged, not retried.
      logger.error('monitor: check failed', { error: describeError(error) });
      return { checked: 0, stale: 0, unchecked: 0, repaired: 0, metrics: emptyMetrics(0), findings: [] };
    });

  return {
    check: safeCheck,
    handler: async (event, context) => {
      const timed = isObject(context) && typeof context['getRemainingTimeInMillis'] === 'function' ? (context as unknown as LambdaTimeContext) : undefined;
      await safeCheck(event, timed);
      return { batchItemFailures: [] };
    },
  };
}
