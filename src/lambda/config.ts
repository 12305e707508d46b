/**
 * Handler configuration and its validation. Validated once, when the handler is created (cold
 * start), so the per-invocation path does no checking. `zod/mini` keeps the bundle small.
 *
 * @module
 */
import * as z from 'zod/mini';
import type { RecordSource } from '../core/change.js';
import type { CacheAdapter } from '../core/commands.js';
import type { Rule, TtlDeletes } from '../core/rules.js';
import { RECORD_SOURCES } from '../core/sources/index.js';
import { strategyIssues, STRATEGY_NAMES } from '../core/strategies/index.js';
import { ConfigError } from '../errors.js';
import type { Logger } from './logger.js';

/** Metrics options: CloudWatch Embedded Metric Format lines on stdout. */
export interface MetricsOptions {
  /** CloudWatch namespace. Default `DdbCacheSync`. */
  readonly namespace?: string;
  /** Extra dimensions added to every metric, e.g. `{ Service: 'users' }`. */
  readonly dimensions?: Readonly<Record<string, string>>;
}

/** Configuration for {@link createStreamHandler} and {@link createStreamProcessor}. */
export interface StreamHandlerConfig {
  /** Where commands go: `memoryAdapter()`, `redisAdapter(...)`, `memcachedAdapter(...)`. */
  readonly adapter: CacheAdapter;
  /** The cache rules; each record is matched against every rule. */
  readonly rules: readonly Rule[];
  /**
   * A record that cannot be planned (malformed, a rule function throws): `fail` (default)
   * reports it so Lambda retries from it and, after its retries, sends it to the on-failure
   * destination; `skip` logs the error and moves on.
   */
  readonly onInvalidRecord?: 'fail' | 'skip';
  /** Default for rules without their own `ttlDeletes`. Default `apply`. */
  readonly ttlDeletes?: TtlDeletes;
  /** A Powertools-compatible logger, or `false` for none. Default: JSON lines on stdout. */
  readonly logger?: Logger | false;
  /** Metrics options, or `false` for none. Default: EMF lines, namespace `DdbCacheSync`. */
  readonly metrics?: MetricsOptions | false;
  /**
   * Log cache keys and record details at debug level. Keys often contain item data (an
   * email), so this is off by default; turn on only while debugging.
   */
  readonly debugLogItemContents?: boolean;
  /**
   * Most cache keys one record may touch; a record above it is an invalid record naming the
   * rule and the count. Default 100,000.
   */
  readonly maxKeysPerRecord?: number;
}

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { error: `must be a function (${what})` });

/*
 * These schemas use few zod kinds on purpose: each kind is code in every Lambda bundle. Hence
 * no `z.literal` (`false` is a custom check), no `z.record` (dimensions are a custom check) and
 * no `z.int()`/`z.positive()` (number-format and comparison checks, about 3 kB minified):
 * whole positive numbers are two refinements, which reuse the custom check `fn` needs.
 */
const positiveWholeNumber = (messages: { type: string; whole: string; positive: string }) =>
  z.number({ error: messages.type }).check(
    z.refine((n) => Number.isSafeInteger(n), { error: messages.whole, abort: true }),
    z.refine((n) => n > 0, { error: messages.positive }),
  );

const seconds = (positive: string) =>
  z.optional(positiveWholeNumber({ type: 'must be a number of seconds', whole: 'must be a whole number of seconds', positive }));

const codecSchema = z.union(
  [z.enum(['json', 'dynamodb']), z.object({ name: z.string(), encode: fn('value, source => string'), decode: fn('string => value') })],
  { error: "must be 'json', 'dynamodb' or a codec { name, encode, decode }" },
);

const ttlDeletesSchema = z.enum(['apply', 'ignore'], { error: "must be 'apply' or 'ignore'" });

const ruleSchema = z.strictObject(
  {
    name: z.optional(z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must not be empty' }))),
    table: z.optional(z.union([z.string().check(z.minLength(1)), z.instanceof(RegExp)], { error: 'must be a table name or a RegExp' })),
    when: z.optional(fn('item => boolean')),
    // Which of key and tags a rule needs depends on its strategy: checked with the strategy.
    key: z.optional(fn('item => string | string[]')),
    tags: z.optional(fn('item => string | string[]')),
    strategy: z.enum(STRATEGY_NAMES, { error: "must be 'invalidate' or 'write-through', 'versioned' or 'tags' (see docs/strategies.md)" }),
    version: z.optional(
      z.union([z.enum(['sequenceNumber']), z.strictObject({ attribute: z.string().check(z.minLength(1)) })], {
        error: "must be 'sequenceNumber' or { attribute: 'name' }",
      }),
    ),
    writes: z.optional(z.enum(['value', 'tombstone'], { error: "must be 'value' or 'tombstone'" })),
    tagTtlSeconds: seconds('must be positive'),
    tombstoneTtlSeconds: seconds('must be positive'),
    ttlSeconds: seconds('must be positive; omit it for no expiry'),
    attributes: z.optional(
      z
        .array(z.string().check(z.minLength(1)), { error: 'must be an array of attribute names' })
        .check(z.minLength(1, { error: 'must name at least one attribute' })),
    ),
    value: z.optional(fn('item => value to cache')),
    codec: z.optional(codecSchema),
    ttlDeletes: z.optional(ttlDeletesSchema),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : 'must be a rule object { key, strategy, ... }') },
);

const configSchema = z.strictObject(
  {
    adapter: z.custom<CacheAdapter>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        typeof (v as Partial<CacheAdapter>).execute === 'function' &&
        typeof (v as Partial<CacheAdapter>).close === 'function',
      { error: 'must be a cache adapter, e.g. memoryAdapter() or redisAdapter({ url })' },
    ),
    rules: z.array(ruleSchema, { error: 'must be an array of rules' }).check(z.minLength(1, { error: 'must contain at least one rule' })),
    onInvalidRecord: z.optional(z.enum(['fail', 'skip'], { error: "must be 'fail' or 'skip'" })),
    ttlDeletes: z.optional(ttlDeletesSchema),
    logger: z.optional(
      z.custom<Logger | false>(
        (v) =>
          v === false ||
          (typeof v === 'object' &&
            v !== null &&
            ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as unknown as Record<string, unknown>)[m] === 'function')),
        { error: 'must be false or a logger with debug, info, warn and error methods' },
      ),
    ),
    metrics: z.optional(
      z.union(
        [
          z.custom<false>((v) => v === false),
          z.strictObject({
            namespace: z.optional(z.string().check(z.minLength(1))),
            dimensions: z.optional(
              z.custom<Readonly<Record<string, string>>>(
                (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((d) => typeof d === 'string'),
              ),
            ),
          }),
        ],
        { error: 'must be false or { namespace?, dimensions? }' },
      ),
    ),
    debugLogItemContents: z.optional(z.boolean({ error: 'must be true or false' })),
    maxKeysPerRecord: z.optional(
      positiveWholeNumber({ type: 'must be a positive integer', whole: 'must be a positive integer', positive: 'must be a positive integer' }),
    ),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : 'config must be an object { adapter, rules, ... }') },
);

/** Checks that span fields, and those that depend on the adapter or the record source. */
function ruleIssues(config: StreamHandlerConfig, source: RecordSource): string[] {
  const environment = { adapter: config.adapter, source: RECORD_SOURCES[source].traits };
  return config.rules.flatMap((rule, i) => strategyIssues(rule, environment).map(({ field, message }) => `rules[${i}].${field}: ${message}`));
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'config';
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out === '' ? String(part) : `${out}.${String(part)}`), '');
}

/** Options of {@link validateConfig}. */
export interface ValidateConfigOptions {
  /**
   * The record source the config will run on. Default `dynamodb-streams`; `kinesis` also
   * refuses rules whose result depends on record order (write-through, sequence-number versions).
   */
  readonly source?: RecordSource;
}

/**
 * Validate a handler config. Throws {@link ConfigError} listing every problem as
 * `path: message`, with the zod error as `cause`. Exported so users can check a config in
 * their own tests before deploying.
 *
 * @example
 * ```ts
 * import { validateConfig } from 'ddb-cache-sync';
 * validateConfig({ adapter: memoryAdapter(), rules: [{ key: (i) => `user:${i.pk}`, strategy: 'invalidate' }] });
 * ```
 */
export function validateConfig(config: unknown, options: ValidateConfigOptions = {}): StreamHandlerConfig {
  const result = configSchema.safeParse(config);
  if (result.success) {
    const valid = config as StreamHandlerConfig;
    const issues = ruleIssues(valid, options.source ?? 'dynamodb-streams');
    if (issues.length > 0) throw new ConfigError(issues);
    return valid;
  }
  const issues = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `${formatPath(issue.path)}: unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (check the spelling; see the rule reference in the README)`;
    }
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
  throw new ConfigError(issues, { cause: result.error });
}
