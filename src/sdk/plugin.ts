/**
 * `createReadThroughPlugin`: a DynamoDB client middleware that answers covered GetItems from the
 * cache the stream handler keeps, filling misses under the reader's lease.
 *
 * @module
 */
import type { GetItemCommandInput, GetItemCommandOutput, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import type { InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput, InitializeMiddleware, Pluggable } from '@smithy/types';
import * as z from 'zod/mini';
import { supportsVersioned, type CacheAdapter } from '../core/commands.js';
import { compileRules, type CompiledRule } from '../core/compiled-rule.js';
import type { Codec, Rule } from '../core/rules.js';
import { strictOptionIssues } from '../core/strict-options.js';
import { ConfigError } from '../errors.js';
import type { MetricsOptions } from '../lambda/config.js';
import { createJsonLogger, type Logger } from '../lambda/logger.js';
import { createCacheReader } from '../reader/index.js';
import { decodeStoredItem, encodeSdkItem, projectItem, type SdkItem } from './attribute-json.js';
import { createBatchGet, createWireBatchGet } from './batch-get.js';
import { decideRead, storesItem, tableName, type CoveredRead } from './coverage.js';
import { emptyReadMetrics, readEmfDocument, type ReadMetrics } from './metrics.js';
import { createWireMiddleware, wireCodec, type WireItem } from './wire.js';

/** Options for {@link createReadThroughPlugin}. */
export interface ReadThroughOptions {
  /** The adapter the stream handler writes to (it must support leases: Redis, Memcached, memory). */
  readonly adapter: CacheAdapter;
  /** The stream handler's rules, unchanged: reads and invalidations share them. */
  readonly rules: readonly Rule[];
  /** How long a miss's lease protects its GetItem, in ms. Default 3,000 (the reader's default). */
  readonly leaseTtlMs?: number;
  /** How long a miss waits for another reader's fill before reading the table itself. Default 200 ms. */
  readonly waitMs?: number;
  /**
   * Cache "item not found" for this long (the reader's `negativeTtlSeconds`, under the same lease,
   * so an INSERT that races the GetItem voids it). Omit to pass "not found" through uncached.
   */
  readonly negativeTtlSeconds?: number;
  /**
   * Await a miss's fill before answering. Default `false`: the GetItem's answer goes back as soon
   * as the table gives it, and the fill (one more round trip) runs in the background, bounded by
   * the adapter's deadline, its failure counted and logged, never thrown. Call
   * {@link ReadThroughPlugin.settle} to await the fills still under way (e.g. before a Lambda
   * invocation returns, if the next invocation should find them).
   */
  readonly awaitFill?: boolean;
  /** Metrics options (as the handler's), or `false` for none. Emitted by {@link ReadThroughPlugin.flushMetrics}. */
  readonly metrics?: MetricsOptions | false;
  /** A Powertools-compatible logger, or `false` for none. Default: JSON lines on stdout. Never logs keys or values. */
  readonly logger?: Logger | false;
}

/** The plugin: pass it to `client.middlewareStack.use(...)`. */
export interface ReadThroughPlugin extends Pluggable<ServiceInputTypes, ServiceOutputTypes> {
  /** The counters since the last flush. */
  stats(): Readonly<ReadMetrics>;
  /** Write the counters as one EMF line (unless `metrics: false`) and reset them. Call once per invocation. */
  flushMetrics(): void;
  /** Resolves when every background fill started so far has finished (see `awaitFill`). Never rejects. */
  settle(): Promise<void>;
}

/** The middleware's name in the client's stack. */
export const READ_THROUGH_MIDDLEWARE = 'ddbCacheSyncReadThrough';
/** The name of the plugin's second middleware, below the deserializer (for `DynamoDBDocumentClient`). */
export const READ_THROUGH_WIRE_MIDDLEWARE = 'ddbCacheSyncReadThroughWire';

const isFunction = (v: unknown) => typeof v === 'function';
const optionsSchema = z.strictObject({
  adapter: z.unknown(),
  rules: z.array(z.unknown()),
  leaseTtlMs: z.optional(z.unknown()),
  waitMs: z.optional(z.unknown()),
  negativeTtlSeconds: z.optional(z.unknown()),
  awaitFill: z.optional(z.boolean()),
  metrics: z.optional(z.unknown()),
  logger: z.optional(
    z.union([z.literal(false), z.custom<Logger>((v) => typeof v === 'object' && v !== null && isFunction((v as Logger).warn))], {
      error: 'must be false or a logger with a warn method',
    }),
  ),
});

/** Stored values of servable rules are `dynamodb`-codec AttributeValue JSON: read them as SDK items. */
const itemCodec: Codec = { name: 'dynamodb', encode: (value) => encodeSdkItem(value as SdkItem), decode: decodeStoredItem };

/** The version a fill carries: the rule's version attribute, when the rule has one. */
function versionOf(compiled: CompiledRule, item: Readonly<Record<string, { readonly N?: unknown; readonly S?: unknown }>> | undefined): string | undefined {
  const source = compiled.rule.version;
  if (compiled.rule.strategy !== 'versioned' || typeof source !== 'object' || item === undefined) return undefined;
  const av = Object.hasOwn(item, source.attribute) ? item[source.attribute] : undefined;
  const version = av?.N ?? av?.S;
  return typeof version === 'string' ? version : undefined;
}

/** The request that loads a miss: the whole item, so the fill stores what the rule caches. */
function loadInput(input: GetItemCommandInput): GetItemCommandInput {
  const { ProjectionExpression: _p, ExpressionAttributeNames: _n, AttributesToGet: _a, ...rest } = input;
  return rest;
}

function withItem(output: GetItemCommandOutput, names: readonly string[] | undefined): GetItemCommandOutput {
  return output.Item === undefined ? output : { ...output, Item: projectItem(output.Item, names) };
}

/**
 * A DynamoDB client plugin that serves covered `GetItem`s from the cache that the stream
 * handler keeps, with the handler's own rules. Misses fill under the reader's lease (a slow
 * GetItem can never fill an old item over a newer stream write); a cache error or timeout falls
 * back to the table and is counted, never thrown. Everything the rules do not cover exactly
 * passes through untouched (see "Reading through the cache" in `docs/concepts.md`).
 *
 * @example
 * ```ts
 * import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
 * import { createReadThroughPlugin } from 'ddb-cache-sync/sdk';
 * import { redisAdapter } from 'ddb-cache-sync/redis';
 * import { rules } from './rules.js'; // the same rules the stream handler uses
 *
 * const client = new DynamoDBClient({});
 * client.middlewareStack.use(createReadThroughPlugin({ adapter: redisAdapter({ url: process.env.REDIS_URL }), rules }));
 * const { Item } = await client.send(new GetItemCommand({ TableName: 'Users', Key: { pk: { S: 'u1' } } }));
 * ```
 */
export function createReadThroughPlugin(options: ReadThroughOptions): ReadThroughPlugin {
  const strict = strictOptionIssues('createReadThroughPlugin', optionsSchema, options);
  if (typeof options !== 'object' || options === null) throw new ConfigError(strict.issues);
  const issues = [...strict.issues];
  const { adapter } = options;
  if (typeof adapter !== 'object' || adapter === null || !supportsVersioned(adapter)) {
    issues.push('adapter: must be a cache adapter with leases (redisAdapter, memcachedAdapter or memoryAdapter), so misses fill without racing the stream');
  }
  const { negativeTtlSeconds } = options;
  if (negativeTtlSeconds !== undefined && !(Number.isSafeInteger(negativeTtlSeconds) && negativeTtlSeconds > 0)) {
    issues.push('negativeTtlSeconds: must be a whole number of seconds above 0; omit it to leave "not found" uncached');
  }
  if (issues.length > 0) throw new ConfigError(issues, { cause: strict.cause });

  const logger = options.logger === false ? undefined : (options.logger ?? createJsonLogger());
  let counters = emptyReadMetrics();
  const count = (metric: keyof ReadMetrics) => {
    counters[metric]++;
  };
  const warn = (operation: string, error: unknown) =>
    // The error's name only: adapter messages can quote keys, and keys can hold item data.
    logger?.warn('read-through: the cache failed; the read was served by the table', {
      operation,
      error: error instanceof Error ? error.name : typeof error,
    });
  const fellBack = (operation: 'get' | 'lease', error: unknown) => {
    count('ReadFallbacks');
    warn(operation, error);
  };
  // Lease first: a hit and a miss both cost one cache call before the table (see the reader).
  const readerOptions = {
    adapter,
    leaseFirst: true,
    awaitFill: options.awaitFill === true,
    ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
    ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
    onCacheError: (error: unknown, operation: 'get' | 'lease' | 'fill') => {
      if (operation !== 'fill') count('ReadFallbacks');
      warn(operation, error);
    },
  };
  const reader = createCacheReader({ ...readerOptions, codec: itemCodec });
  const wireReader = createCacheReader({ ...readerOptions, codec: wireCodec });

  const compiled = compileRules(options.rules);
  // Table matching and rule shape do not depend on the request: decide them once per table.
  const byTable = new Map<string, { readonly servable: readonly CompiledRule[]; readonly any: boolean }>();
  const rulesFor = (table: string | undefined) => {
    const name = table ?? '';
    let entry = byTable.get(name);
    if (entry === undefined) {
      const matching = table === undefined ? [] : compiled.filter((r) => r.matchesTable(table));
      entry = { servable: matching.filter(storesItem), any: matching.length > 0 };
      byTable.set(name, entry);
    }
    return entry;
  };

  const loadOptions = <T>(read: CoveredRead, loaded: () => Readonly<Record<string, { readonly N?: unknown; readonly S?: unknown }>> | undefined) => ({
    ...(read.rule.rule.ttlSeconds === undefined ? {} : { ttlSeconds: read.rule.rule.ttlSeconds }),
    ...(negativeTtlSeconds === undefined ? {} : { negativeTtlSeconds }),
    versionOf: (_: T) => versionOf(read.rule, loaded()),
  });

  const batchContext = {
    adapter,
    rulesFor,
    counters: () => counters,
    logger,
    leaseTtlMs: options.leaseTtlMs ?? 3_000,
    negativeTtlSeconds,
    versionOf,
  };
  const batchGet = createBatchGet(batchContext);

  type Args = InitializeHandlerArguments<ServiceInputTypes>;
  type Out = InitializeHandlerOutput<ServiceOutputTypes>;

  async function serve(
    read: CoveredRead,
    args: Args,
    input: GetItemCommandInput,
    next: InitializeHandler<ServiceInputTypes, ServiceOutputTypes>,
  ): Promise<Out> {
    let loaded: Out | undefined;
    let tableFailed = false;
    let full: SdkItem | undefined;
    let item: SdkItem | undefined;
    try {
      item = await reader.getOrLoad<SdkItem>(
        read.key,
        async () => {
          try {
            loaded = await next({ ...args, input: loadInput(input) });
          } catch (error) {
            tableFailed = true;
            throw error;
          }
          full = (loaded.output as GetItemCommandOutput).Item;
          return full === undefined ? undefined : projectItem(full, read.rule.rule.attributes);
        },
        loadOptions(read, () => full),
      );
    } catch (error) {
      if (tableFailed || loaded !== undefined) throw error;
      // Anything else is the cache's fault (a stored value that does not decode): never the caller's.
      fellBack('get', error);
      loaded = await next(args);
      count('ReadMisses');
      return loaded;
    }
    if (loaded !== undefined) {
      count('ReadMisses');
      return { ...loaded, output: withItem(loaded.output as GetItemCommandOutput, read.names) };
    }
    if (item === undefined) {
      // Nothing was loaded here: with negative caching on, the cache answered "not found".
      if (negativeTtlSeconds !== undefined) {
        count('ReadHits');
        return { output: { $metadata: {} } satisfies GetItemCommandOutput, response: undefined };
      }
      count('ReadMisses');
      return next(args);
    }
    count('ReadHits');
    const output: GetItemCommandOutput = { $metadata: {}, Item: projectItem(item, read.names) };
    return { output, response: undefined };
  }

  const middleware: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
    if (context.commandName === 'BatchGetItemCommand') return batchGet(args, next, () => deferred.add(context));
    if (context.commandName !== 'GetItemCommand') return next(args);
    const input = args.input as GetItemCommandInput;
    const { servable, any } = rulesFor(tableName(input.TableName));
    const decision = decideRead(input, servable, any);
    if (decision.kind === 'pass') {
      // A Key that is not AttributeValues is most likely a document client's: decide again once
      // lib-dynamodb has marshalled it, below the deserializer.
      if (decision.reason === 'key-form') deferred.add(context);
      else count('ReadPassThroughs');
      return next(args);
    }
    return serve(decision, args, input, next);
  };

  const deferred = new WeakSet<object>();
  const wireMiddleware = createWireMiddleware({
    reader: wireReader,
    deferred,
    decide: (input) => {
      const { servable, any } = rulesFor(tableName(input.TableName));
      return decideRead(input, servable, any);
    },
    loadOptions: (read, loaded) => loadOptions<WireItem>(read, loaded),
    count,
    fellBack,
    negativeTtlSeconds,
    batchGet: createWireBatchGet(batchContext),
  });

  const metricsOptions = options.metrics === false ? undefined : (options.metrics ?? {});
  return {
    applyToStack(stack) {
      stack.add(middleware, { step: 'initialize', name: READ_THROUGH_MIDDLEWARE, override: true });
      stack.addRelativeTo(wireMiddleware, { relation: 'after', toMiddleware: 'deserializerMiddleware', name: READ_THROUGH_WIRE_MIDDLEWARE, override: true });
    },
    settle: async () => {
      await Promise.all([reader.settle(), wireReader.settle()]);
    },
    stats: () => ({ ...counters }),
    flushMetrics() {
      const snapshot = counters;
      counters = emptyReadMetrics();
      if (metricsOptions) process.stdout.write(`${JSON.stringify(readEmfDocument(snapshot, adapter.name, metricsOptions, Date.now()))}\n`);
    },
  };
}
