/**
 * ddb-cache-sync: keep Redis/Valkey and Memcached caches correct in front of DynamoDB by
 * consuming DynamoDB Streams in AWS Lambda. This entry is the application's API: the handler
 * factories, rules, the reader, errors, codecs and the in-memory adapter. Redis and Memcached
 * adapters live in `ddb-cache-sync/redis` and `ddb-cache-sync/memcached` so importing this never
 * loads their clients; what only adapter authors need is in `ddb-cache-sync/adapter-kit`, and
 * the adapter contract suite in `ddb-cache-sync/testing`.
 *
 * @module
 */
export { memoryAdapter, type MemoryAdapter, type MemoryAdapterOptions } from './adapters/memory/index.js';
export { exactNumber } from './core/attributes.js';
export type { ChangeDecoder, ChangeImages, EventName, SourceTraits, StreamChange } from './core/change.js';
export { dynamodbCodec, jsonCodec } from './core/codecs.js';
// The command and adapter types stay here because the handler's `adapter` option and
// `planCommands`' result name them; the adapter kit re-exports them for adapter authors.
export type {
  AdapterCapabilities,
  AnyCacheCommand,
  CacheAdapter,
  CacheCommand,
  CacheCommandKind,
  CommandResult,
  DeleteCommand,
  DeleteVersionedCommand,
  FillOptions,
  LeaseOutcome,
  SetCommand,
  SetVersionedCommand,
  VersionedCacheAdapter,
  VersionedCommand,
} from './core/commands.js';
export {
  compileRules,
  DEFAULT_MAX_KEYS_PER_RECORD,
  DEFAULT_TOMBSTONE_TTL_SECONDS,
  planCommands,
  tableFromArn,
  type CompiledRule,
  type PlanOptions,
  type PlannedRecord,
  type RecordSource,
  type SkipReason,
} from './core/plan.js';
export type {
  AttributeMap,
  AttributeValue,
  Codec,
  CodecName,
  Item,
  KeyRule,
  KeyStrategy,
  Rule,
  RuleBase,
  RuleContext,
  Strategy,
  TagsRule,
  TtlDeletes,
  VersionSource,
} from './core/rules.js';
export { decodeEnvelope, type Envelope } from './core/versioned.js';
export { CasContentionError } from './core/versioned-cas.js';
export { createCacheReader, type CacheReader, type CacheReaderOptions, type LoadOptions, type ReadOptions } from './reader/index.js';
export { createKinesisStreamHandler, createKinesisStreamProcessor, type KinesisStreamHandler } from './lambda/kinesis.js';
export {
  CacheCommandError,
  CacheUnavailableError,
  ClientLoadError,
  ConfigError,
  DdbCacheSyncError,
  InvalidRecordError,
  ValueTooLargeError,
  type InvalidRecordContext,
} from './errors.js';
export { validateConfig, type MetricsOptions, type StreamHandlerConfig, type ValidateConfigOptions } from './lambda/config.js';
export {
  createStreamHandler,
  createStreamProcessor,
  type ProcessResult,
  type StreamHandler,
  type StreamHandlerConfigLoader,
  type StreamProcessor,
} from './lambda/handler.js';
export { createJsonLogger, type Logger } from './lambda/logger.js';
export type { BatchMetrics } from './lambda/metrics.js';
