/**
 * ddb-cache-sync: keep Redis/Valkey and Memcached caches correct in front of DynamoDB by
 * consuming DynamoDB Streams in AWS Lambda. This entry holds the core, the Lambda handler and
 * the in-memory adapter; Redis and Memcached adapters live in `ddb-cache-sync/redis` and
 * `ddb-cache-sync/memcached` so importing this never loads their clients.
 *
 * @module
 */
export { memoryAdapter, type MemoryAdapter, type MemoryAdapterOptions } from './adapters/memory/index.js';
export { exactNumber } from './core/attributes.js';
export { dynamodbCodec, jsonCodec } from './core/codecs.js';
export type { CacheAdapter, CacheCommand, CacheCommandKind, CommandResult, DeleteCommand, SetCommand } from './core/commands.js';
export { compileRules, planCommands, tableFromArn, type CompiledRule, type PlanOptions, type PlannedRecord, type SkipReason } from './core/plan.js';
export type { AttributeMap, AttributeValue, Codec, CodecName, Item, Rule, RuleContext, Strategy, TtlDeletes } from './core/rules.js';
export {
  CacheCommandError,
  CacheUnavailableError,
  ConfigError,
  DdbCacheSyncError,
  InvalidRecordError,
  ValueTooLargeError,
  type InvalidRecordContext,
} from './errors.js';
export { validateConfig, type MetricsOptions, type StreamHandlerConfig } from './lambda/config.js';
export {
  createStreamHandler,
  createStreamProcessor,
  type ProcessResult,
  type StreamHandler,
  type StreamProcessor,
} from './lambda/handler.js';
export { createJsonLogger, type Logger } from './lambda/logger.js';
export type { BatchMetrics } from './lambda/metrics.js';
