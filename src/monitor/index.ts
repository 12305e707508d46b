/**
 * `ddb-cache-sync/monitor`: measure staleness in production. A second consumer of the change
 * stream checks, `graceMs` after each write, that the cache holds nothing older than that
 * write, and emits `CheckedKeys`, `StaleKeys` and `UncheckedKeys`. See docs/monitor.md.
 *
 * The default `load` imports the optional peer `@aws-sdk/client-dynamodb` on first use.
 *
 * @module
 */
export {
  createConsistencyMonitor,
  keyHash,
  type ConsistencyMonitor,
  type LambdaTimeContext,
  type MonitorReport,
  type StaleFinding,
} from './monitor.js';
export { validateMonitorOptions, type ConsistencyMonitorOptions, type ResolvedMonitorOptions } from './options.js';
export { dynamodbLoader, type DynamoDbLoaderOptions, type LoadItem } from './load.js';
export {
  cachedPayload,
  defaultEquals,
  dueAt,
  judgeCached,
  judgeWithTable,
  type CacheEquals,
  type KeyExpectation,
  type StaleReason,
  type Verdict,
} from './judge.js';
export type { MonitorMetrics } from './metrics.js';
