/**
 * The application-side read path: `get` and cache-aside `getOrLoad` with leases, so a reader
 * that loaded old data from DynamoDB can never store it over a newer stream write.
 *
 * How a lease works (after the leases of Facebook's memcache paper): a miss takes a lease, a
 * random token stored in the key itself, atomically and only if the key is absent, a tombstone,
 * or an abandoned lease. The reader then loads from the table and fills only if the key still
 * holds its token. Any stream write or invalidation in between replaces the key and so voids the
 * lease, and the late fill is dropped. Readers that find someone else's live lease wait briefly
 * for the value instead of all loading at once; past `waitMs` they load without filling.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { supportsVersioned, type CacheAdapter, type LeaseOutcome } from '../core/commands.js';
import { resolveCodec } from '../core/codecs.js';
import type { Codec, CodecName } from '../core/rules.js';
import { DEFAULT_TAG_TTL_SECONDS } from '../core/tags.js';
import { canonicalVersion, decodeEnvelope, NOT_FOUND_PAYLOAD } from '../core/versioned.js';
import { strictOptionIssues } from '../core/strict-options.js';
import { ConfigError } from '../errors.js';
import { checkCallOptions, ensureTags, readTags } from './tags.js';

/** Options for {@link createCacheReader}. */
export interface CacheReaderOptions {
  /** The same adapter type (and server) the stream handler writes to. */
  readonly adapter: CacheAdapter;
  /** How cached values decode, and how loaded values encode for fills. Default `json`. */
  readonly codec?: CodecName | Codec;
  /**
   * How long a lease protects one load, in ms. After it, another reader may take the lease
   * over (the first reader's fill is then dropped). Default 3,000; make it longer than a slow
   * table read.
   */
  readonly leaseTtlMs?: number;
  /** How long a reader waits for another reader's load before loading itself (without filling). Default 200 ms. */
  readonly waitMs?: number;
  /** How often a waiting reader looks again. Default 10 ms. */
  readonly pollMs?: number;
  /**
   * Called when the cache fails (unreachable, timeout). The read still succeeds: it loads from
   * the table and skips the fill. Default: ignore.
   */
  readonly onCacheError?: (error: unknown, operation: 'get' | 'lease' | 'fill') => void;
  /**
   * Tagged entries only: after a tag changes, refuse fills under it for this long, in ms (reads
   * still hit; loads are served unfilled). For loaders that cannot read consistently (a GSI
   * query lags the table): a load that still saw the old result is not cached for as long as
   * the index may lag. Default 0 (loaders read consistently). See docs/strategies.md.
   */
  readonly tagHoldOffMs?: number;
  /**
   * TTL in seconds of the tag states a reader creates for tags that have none yet. Default
   * 86,400, like a tags rule's `tagTtlSeconds`; keep entry TTLs shorter.
   */
  readonly tagTtlSeconds?: number;
  /**
   * `getOrLoad` asks for the lease first instead of reading first: a lease that is not granted
   * answers what the key holds, so a hit and a miss both cost one round trip before the loader
   * (Redis: one script; Memcached: a hit is one `gets`, a miss `gets` then `add`, as memjs cannot
   * pipeline). A hit on Redis runs the lease script instead of a plain GET. Default `false`.
   */
  readonly leaseFirst?: boolean;
  /**
   * `getOrLoad` returns as soon as the loader answers and fills in the background, so the fill's
   * round trip is not on the caller's path. A background fill is bounded by the adapter's
   * deadline, and its failure goes to `onCacheError` ('fill'), never to the caller;
   * {@link CacheReader.settle} awaits the fills still under way. Default `true` (await the fill).
   */
  readonly awaitFill?: boolean;
}

/** Options of {@link CacheReader.get}. */
export interface ReadOptions {
  /**
   * The tags the entry was filled under (`getOrLoad(key, load, { tags })`). Reading with other
   * tags, or after any of them changed (a `tags` rule saw a change), is a miss.
   */
  readonly tags?: readonly string[];
}

/** Options of {@link CacheReader.getOrLoad}. */
export interface LoadOptions<T> extends ReadOptions {
  /** TTL of the filled value in seconds. Omit for no expiry. */
  readonly ttlSeconds?: number;
  /**
   * Cache "not found" (`loader` answered `undefined`) for this many seconds. Filled under the
   * same lease as a value, so an INSERT that races the load voids it (and for tagged entries,
   * the tag's change does). Omit to cache no "not found".
   */
  readonly negativeTtlSeconds?: number;
  /**
   * The version of the loaded value (the rule's version attribute), when known. It labels the
   * fill so that stream records at or below it are refused; without it the fill is labelled with
   * the lease floor, which is always safe but may let the stream briefly replay older records.
   */
  readonly versionOf?: (value: T) => string | number | bigint | undefined;
}

/** A cache reader. */
export interface CacheReader {
  /**
   * The cached value decoded, or `undefined` on a miss (absent, tombstone, a lease, a cached
   * "not found"). A `tags` option that is not an array of non-empty strings is a ConfigError.
   */
  get(key: string, options?: ReadOptions): Promise<unknown>;
  /**
   * The cached value, or else `loader()`'s result, stored in the cache only if no newer write
   * happened while loading. `loader` returns `undefined` for "not found", which is cached only
   * with `negativeTtlSeconds`. With `tags`, the entry goes when any of them changes.
   */
  getOrLoad<T>(key: string, loader: () => Promise<T | undefined>, options?: LoadOptions<T>): Promise<T | undefined>;
  /**
   * Resolves once every background fill (`awaitFill: false`) started so far has finished. Never
   * rejects: a failed fill was reported to `onCacheError`. In Lambda, await it before the
   * invocation ends if fills must land before the sandbox freezes.
   */
  settle(): Promise<void>;
}

type Hit = { readonly hit: true; readonly value: unknown } | { readonly hit: false };
const MISS: Hit = { hit: false };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const isFunction = (v: unknown) => typeof v === 'function';

// Names and types; the durations' values are checked by `positive`, which words the problem.
const readerSchema = z.strictObject({
  adapter: z.unknown(),
  codec: z.optional(
    z.union(
      [
        z.enum(['json', 'dynamodb']),
        z.object({ name: z.string(), encode: z.custom<Codec['encode']>(isFunction), decode: z.custom<Codec['decode']>(isFunction) }),
      ],
      { error: "must be 'json', 'dynamodb' or a codec { name, encode, decode }" },
    ),
  ),
  leaseTtlMs: z.optional(z.unknown()),
  waitMs: z.optional(z.unknown()),
  pollMs: z.optional(z.unknown()),
  tagHoldOffMs: z.optional(z.unknown()),
  tagTtlSeconds: z.optional(z.unknown()),
  leaseFirst: z.optional(z.boolean()),
  awaitFill: z.optional(z.boolean()),
  onCacheError: z.optional(z.custom<NonNullable<CacheReaderOptions['onCacheError']>>(isFunction, { error: 'must be a function (error, operation) => void' })),
});

function positive(name: string, value: number | undefined, fallback: number, issues: string[]): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) issues.push(`${name}: must be a positive number of milliseconds`);
  return value;
}

function versionText(version: string | number | bigint | undefined): string | undefined {
  if (version === undefined) return undefined;
  if (typeof version === 'number' && !Number.isSafeInteger(version)) return undefined;
  return canonicalVersion(String(version));
}

/**
 * Create a cache reader for application code (cache-aside with leases).
 *
 * @example
 * ```ts
 * import { createCacheReader } from 'ddb-cache-sync';
 * import { redisAdapter } from 'ddb-cache-sync/redis';
 *
 * const reader = createCacheReader({ adapter: redisAdapter({ url: process.env.REDIS_URL }) });
 * const user = await reader.getOrLoad(`user:${id}`, async () => {
 *   const { Item } = await ddb.send(new GetCommand({ TableName: 'App', Key: { pk: id }, ConsistentRead: true }));
 *   return Item;
 * }, { ttlSeconds: 300, versionOf: (item) => item.version });
 * ```
 */
export function createCacheReader(options: CacheReaderOptions): CacheReader {
  const strict = strictOptionIssues('createCacheReader', readerSchema, options);
  if (typeof options !== 'object' || options === null) throw new ConfigError(strict.issues);
  const issues = [...strict.issues];
  const { adapter } = options;
  if (typeof adapter !== 'object' || adapter === null || typeof adapter.get !== 'function') issues.push('adapter: must be a cache adapter');
  const leaseTtlMs = positive('leaseTtlMs', options.leaseTtlMs, 3_000, issues);
  const waitMs = positive('waitMs', options.waitMs, 200, issues);
  const pollMs = positive('pollMs', options.pollMs, 10, issues);
  const tagHoldOffMs = options.tagHoldOffMs ?? 0;
  if (!Number.isFinite(tagHoldOffMs) || tagHoldOffMs < 0) issues.push('tagHoldOffMs: must be a number of milliseconds, 0 or more');
  const tagTtlSeconds = options.tagTtlSeconds ?? DEFAULT_TAG_TTL_SECONDS;
  if (!Number.isSafeInteger(tagTtlSeconds) || tagTtlSeconds <= 0) issues.push('tagTtlSeconds: must be a positive whole number of seconds');
  if (issues.length > 0) throw new ConfigError(issues, { cause: strict.cause });
  const codec = resolveCodec(options.codec);
  const report = options.onCacheError ?? (() => {});
  const leaseFirst = options.leaseFirst === true;
  const awaitFill = options.awaitFill !== false;
  const pending = new Set<Promise<void>>();

  const decode = (stored: string | undefined): Hit => {
    if (stored === undefined) return MISS;
    const entry = decodeEnvelope(stored);
    if (entry.kind === 'value' && entry.payload === NOT_FOUND_PAYLOAD) return { hit: true, value: undefined };
    if (entry.kind === 'value' || entry.kind === 'plain') return { hit: true, value: codec.decode(entry.payload) };
    return MISS;
  };

  async function readEntry(key: string): Promise<Hit | undefined> {
    try {
      return decode(await adapter.get(key));
    } catch (error) {
      report(error, 'get');
      return undefined;
    }
  }

  return {
    async get(key, read: ReadOptions = {}) {
      checkCallOptions('get', read);
      let entryKey = key;
      if (read.tags !== undefined && read.tags.length > 0) {
        try {
          const tagged = await readTags(adapter, key, read.tags, tagHoldOffMs);
          if (tagged === undefined) return undefined;
          entryKey = tagged.entryKey;
        } catch (error) {
          report(error, 'get');
          return undefined;
        }
      }
      const hit = await readEntry(entryKey);
      return hit?.hit ? hit.value : undefined;
    },

    async getOrLoad<T>(key: string, loader: () => Promise<T | undefined>, load: LoadOptions<T> = {}): Promise<T | undefined> {
      checkCallOptions('getOrLoad', load);
      if (!supportsVersioned(adapter)) {
        throw new ConfigError([
          `adapter: ${adapter.name} does not implement leases, which getOrLoad needs to fill the cache without racing the stream; use get() and load without filling, or a lease-capable adapter`,
        ]);
      }
      let entryKey = key;
      if (load.tags !== undefined && load.tags.length > 0) {
        let heldOff: boolean;
        try {
          ({ entryKey, heldOff } = await ensureTags(adapter, key, load.tags, tagHoldOffMs, tagTtlSeconds));
        } catch (error) {
          report(error, 'get');
          return loader();
        }
        if (heldOff) {
          const hit = await readEntry(entryKey);
          return hit?.hit ? (hit.value as T | undefined) : loader();
        }
      }
      const giveUpAt = Date.now() + waitMs;
      for (;;) {
        if (!leaseFirst) {
          const hit = await readEntry(entryKey);
          if (hit === undefined) return loader(); // cache unavailable: serve from the table
          if (hit.hit) return hit.value as T | undefined;
        }

        const token = randomUUID();
        let outcome: LeaseOutcome;
        try {
          outcome = await adapter.lease(entryKey, token, leaseTtlMs);
        } catch (error) {
          report(error, 'lease');
          return loader();
        }
        if (outcome.granted) {
          let value: T | undefined;
          try {
            value = await loader();
          } catch (error) {
            await adapter.fill(entryKey, token, undefined).catch((cause: unknown) => report(cause, 'fill'));
            throw error;
          }
          const notFound = value === undefined && load.negativeTtlSeconds !== undefined;
          const encoded = value === undefined ? (notFound ? NOT_FOUND_PAYLOAD : undefined) : codec.encode(value, { image: {}, transformed: true });
          const version = value === undefined ? undefined : versionText(load.versionOf?.(value));
          const ttlSeconds = notFound ? load.negativeTtlSeconds : load.ttlSeconds;
          const filling = adapter
            .fill(entryKey, token, encoded, {
              ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
              ...(version === undefined ? {} : { version }),
            })
            .then(
              () => {},
              (error: unknown) => report(error, 'fill'),
            );
          if (awaitFill) await filling;
          else {
            pending.add(filling);
            void filling.finally(() => pending.delete(filling));
          }
          return value;
        }
        const seen = decode(outcome.stored);
        if (seen.hit) return seen.value as T | undefined;
        // Someone else holds a live lease and is loading: wait for their fill, bounded.
        if (Date.now() >= giveUpAt) return loader();
        await sleep(pollMs);
      }
    },

    async settle() {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
