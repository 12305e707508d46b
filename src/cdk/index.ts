/**
 * `ddb-cache-sync/cdk`: the production stack (stream mapping, function, cache, failure queue,
 * alarms) as an AWS CDK construct. Needs the optional peers `aws-cdk-lib` and `constructs`;
 * the package root and the adapters never load them.
 *
 * @module
 */
export { CacheSync, type CacheSyncProps, type StreamOptions } from './cache-sync.js';
export type { CacheEndpoint, CacheTarget, NewRedisCacheOptions, RedisEngine } from './cache-target.js';
export { ESM_REQUIRE_BANNER, type FunctionOptions, type HandlerCode } from './handler-code.js';
export type { AlarmOptions, CacheSyncAlarms, LibraryMetrics } from './alarms.js';
export { ConsistencyMonitor, type MonitorAlarms, type MonitorContext, type MonitorOptions } from './monitor.js';
