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
export {
  supportsVersioned,
  type AdapterCapabilities,
  type AnyCacheCommand,
  type CacheAdapter,
  type CacheCommand,
  type CacheCommandKind,
  type CommandResult,
  type DeleteCommand,
  type DeleteVersionedCommand,
  type FillOptions,
  type LeaseOutcome,
  type SetCommand,
  type SetVersionedCommand,
  type VersionedCacheAdapter,
  type VersionedCommand,
} from './core/commands.js';
export {
  compileRules,
  DEFAULT_TOMBSTONE_TTL_SECONDS,
  planCommands,
  tableFromArn,
  type CompiledRule,
  type PlanOptions,
  type PlannedRecord,
  type RecordSource,
  type SkipReason,
} from './core/plan.js';
export type { AttributeMap, AttributeValue, Codec, CodecName, Item, Rule, RuleContext, Strategy, TtlDeletes, VersionSource } from './core/rules.js';
export {
  compareVersions,
  decodeEnvelope,
  deleteVersionedTransition,
  ENVELOPE_MARK,
  ENVELOPE_SEPARATOR,
  fillTransition,
  leaseTransition,
  setVersionedTransition,
  type Envelope,
  type Transition,
} from './core/versioned.js';
export { CasContentionError } from './core/versioned-cas.js';
export { createCacheReader, type CacheReader, type CacheReaderOptions, type LoadOptions } from './reader/index.js';
export { createKinesisStreamHandler, createKinesisStreamProcessor, type KinesisStreamHandler } from './lambda/kinesis.js';
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
