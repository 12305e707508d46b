/**
 * The alarms of a cache-sync stack: Lambda errors, iterator age, the failure queue, and the
 * library's own `FailedCommands` and `InvalidRecords` metrics.
 *
 * @module
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Where the library's metrics land. Must match the `metrics` option of `createStreamHandler`
 * in your handler: an alarm on other dimensions watches a metric nobody writes.
 *
 * @example
 * ```ts
 * const metrics: LibraryMetrics = { namespace: 'DdbCacheSync', dimensions: { Service: 'users' } };
 * ```
 */
export interface LibraryMetrics {
  /** Default `DdbCacheSync`. */
  readonly namespace?: string;
  /** The handler's extra dimensions (`metrics.dimensions`). Default none. */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** The adapter's `name` (the `Adapter` dimension). Default `redis` or `memcached` by cache kind. */
  readonly adapterName?: string;
}

/** Alarm settings. */
export interface AlarmOptions {
  /** Alarm when the cache lags the table by more than this. Default 1 minute. */
  readonly iteratorAgeThreshold?: Duration;
  readonly libraryMetrics?: LibraryMetrics;
}

/**
 * The alarms, exposed so you can add actions (`addAlarmAction`/`addOkAction`) or dashboards.
 *
 * @example
 * ```ts
 * sync.alarms.failureQueue.addAlarmAction(new actions.SnsAction(pager));
 * ```
 */
export interface CacheSyncAlarms {
  /** Whole invocations failed (init failure, timeout, unhandled error). */
  readonly functionErrors: cloudwatch.Alarm;
  /** The cache lags the table beyond the threshold. */
  readonly iteratorAge: cloudwatch.Alarm;
  /** Records were given up on: their cache keys may be stale. Act within 24 hours. */
  readonly failureQueue: cloudwatch.Alarm;
  /** Cache commands failed (the records were retried or will be). */
  readonly failedCommands: cloudwatch.Alarm;
  /** Records a rule could not handle (bad item data, a rule that throws). */
  readonly invalidRecords: cloudwatch.Alarm;
}

// Three breaching minutes out of five: one slow batch does not page anyone.
const SUSTAINED = { evaluationPeriods: 5, datapointsToAlarm: 3 } as const;

/**
 * Create the alarms for a function and its failure queue.
 *
 * @example
 * ```ts
 * const alarms = createCacheSyncAlarms(this, fn, queue, 'redis', {});
 * ```
 */
export function createCacheSyncAlarms(
  scope: Construct,
  fn: lambda.IFunction,
  failureQueue: sqs.IQueue,
  defaultAdapter: string,
  options: AlarmOptions,
): CacheSyncAlarms {
  const alarms = new Construct(scope, 'Alarms');
  const minute = Duration.minutes(1);
  const above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
  const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;
  const library = options.libraryMetrics ?? {};
  const libraryMetric = (metricName: string): cloudwatch.Metric =>
    new cloudwatch.Metric({
      namespace: library.namespace ?? 'DdbCacheSync',
      metricName,
      // The handler emits one dimension set: Adapter plus the extra dimensions, exactly.
      dimensionsMap: { Adapter: library.adapterName ?? defaultAdapter, ...library.dimensions },
      statistic: cloudwatch.Stats.SUM,
      period: minute,
    });
  return {
    functionErrors: fn.metricErrors({ period: minute, statistic: cloudwatch.Stats.SUM }).createAlarm(alarms, 'FunctionErrors', {
      alarmDescription:
        'The function failed whole invocations (init failure, timeout, unhandled error). Per-record cache failures are batch item failures, not here.',
      threshold: 0,
      comparisonOperator: above,
      treatMissingData: notBreaching,
      ...SUSTAINED,
    }),
    iteratorAge: fn.metric('IteratorAge', { period: minute, statistic: cloudwatch.Stats.MAXIMUM }).createAlarm(alarms, 'IteratorAge', {
      alarmDescription:
        'The cache lags the table: the newest processed record was older than the threshold. Check function errors and duration; see docs/deploy.md.',
      threshold: (options.iteratorAgeThreshold ?? Duration.minutes(1)).toMilliseconds(),
      comparisonOperator: above,
      treatMissingData: notBreaching,
      ...SUSTAINED,
    }),
    failureQueue: failureQueue
      .metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM })
      .createAlarm(alarms, 'FailureQueue', {
        alarmDescription:
          'Records were given up on: their cache keys may be stale. Act within 24 hours, while the records are still in the stream; see docs/deploy.md.',
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: above,
        treatMissingData: notBreaching,
      }),
    failedCommands: libraryMetric('FailedCommands').createAlarm(alarms, 'FailedCommands', {
      alarmDescription: 'Cache commands failed: the cache may be unreachable or refusing writes. The records are retried; see the function logs.',
      threshold: 0,
      comparisonOperator: above,
      treatMissingData: notBreaching,
      ...SUSTAINED,
    }),
    invalidRecords: libraryMetric('InvalidRecords').createAlarm(alarms, 'InvalidRecords', {
      alarmDescription:
        'Records a rule could not handle (bad item data, a rule that throws): retried under onInvalidRecord "fail", their keys left alone under "skip". The function logs name each record.',
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: above,
      treatMissingData: notBreaching,
    }),
  };
}
