/**
 * Rules: which records a rule applies to, which cache keys it owns, and how it keeps them.
 *
 * @module
 */
/** An item as the rule functions see it: the unmarshalled image (see `docs/codecs.md`). */
export type Item = Record<string, unknown>;

/**
 * A DynamoDB AttributeValue as it appears in a stream record. Lambda events carry binary as
 * base64 strings; the SDK (and so DynamoDB Local) as `Uint8Array`. Both are accepted.
 */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: string | Uint8Array }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: (string | Uint8Array)[] }
  | { M: Record<string, AttributeValue> }
  | { L: AttributeValue[] }
  | { NULL: boolean }
  | { BOOL: boolean };

/** A DynamoDB image in AttributeValue form, as it appears in a stream record. */
export type AttributeMap = Record<string, AttributeValue>;

/**
 * How a rule keeps its keys (see `docs/strategies.md`):
 * - `invalidate`: delete every key the record touches (old and new image). Readers refill.
 * - `write-through`: set the new image's keys to the encoded value; delete old-image keys that
 *   the new image no longer owns, and delete on REMOVE.
 * - `versioned`: like `write-through` (or, with `writes: 'tombstone'`, like `invalidate`), but
 *   every write carries the record's version and applies only if strictly newer than what the
 *   key holds; deletes leave tombstones. Safe under replays, duplicates and reordering, and with
 *   reader leases (`createCacheReader`) against late reader fills.
 */
export type Strategy = KeyStrategy | 'tags';

/**
 * The strategies whose rules own keys derived from the item (`key`). The fourth, `tags`,
 * names the tags the item belongs to instead: every query and list entry that a reader filled
 * under one of them goes when the item changes (see "query and list caches" in
 * `docs/strategies.md`).
 */
export type KeyStrategy = 'invalidate' | 'write-through' | 'versioned';

/**
 * Where a `versioned` rule takes each record's version from:
 * - `'sequenceNumber'`: the DynamoDB Streams `SequenceNumber`. Orders the records of one
 *   stream; not available from Kinesis Data Streams.
 * - `{ attribute }`: an item attribute (N, or S holding a decimal integer) that the
 *   application increases on every write. Works with any source, including Kinesis.
 */
export type VersionSource = 'sequenceNumber' | { readonly attribute: string };

/** What to do with deletes that DynamoDB's Time to Live performed. */
export type TtlDeletes = 'apply' | 'ignore';

/** Turns what a rule caches into the stored string and back. */
export interface Codec {
  /** Short name for docs and logs. */
  readonly name: string;
  /**
   * Encode the value to store. `value` is the projected, transformed item; `image` is the
   * projected raw AttributeValue image it came from (lossless codecs use it when the rule
   * has no `value` transform).
   */
  encode(value: unknown, source: { readonly image: AttributeMap; readonly transformed: boolean }): string;
  /** Decode a stored string, for readers. */
  decode(stored: string): unknown;
}

/** The built-in codecs by name: `json` (default) or `dynamodb` (lossless AttributeValue JSON). */
export type CodecName = 'json' | 'dynamodb';

/** Context passed to rule functions. */
export interface RuleContext {
  /** Table name from the record's `eventSourceARN`, when present. */
  readonly table: string | undefined;
  /** `INSERT`, `MODIFY` or `REMOVE`. */
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** Which image the item came from. */
  readonly image: 'new' | 'old' | 'keys';
}

/** What every rule has, whichever way it names its cache entries. */
export interface RuleBase {
  /** Name for errors, logs and metrics. Defaults to `rules[i]`. */
  readonly name?: string;
  /** Table name, or a pattern, matched against the table in `eventSourceARN`. Omit to match any. */
  readonly table?: string | RegExp;
  /** Entity filter for single-table designs; evaluated on each image separately. */
  readonly when?: (item: Item, context: RuleContext) => boolean;
  /** TTL for values this rule writes, in seconds. Omit for no expiry. */
  readonly ttlSeconds?: number;
  /** Cache only these top-level attributes (a projection). Keeps secrets out of the cache. */
  readonly attributes?: readonly string[];
  /** Transform the (projected) item into what is cached. */
  readonly value?: (item: Item, context: RuleContext) => unknown;
  /** How values are stored. Default `json`. */
  readonly codec?: CodecName | Codec;
  /** Overrides the handler-wide `ttlDeletes`. */
  readonly ttlDeletes?: TtlDeletes;
  /** `versioned` only (required there): where each record's version comes from. */
  readonly version?: VersionSource;
  /**
   * `versioned` only: what INSERT and MODIFY store. `value` (default) writes the new image
   * through; `tombstone` invalidates (readers refill through leases).
   */
  readonly writes?: 'value' | 'tombstone';
  /**
   * `versioned` only: how long a tombstone refuses older writes, in seconds. Default 90,000
   * (25 h). Keep it longer than the event source mapping's `MaximumRecordAgeInSeconds` and
   * retry window, so no replayed record can outlive the tombstone that refuses it.
   */
  readonly tombstoneTtlSeconds?: number;
  /**
   * `tags` only: how long a tag's state lives after its last change, in seconds. Default 86,400
   * (24 h). A tag state that expired (or was evicted) is re-created with a fresh token, which
   * leaves the entries filled under the old one unreachable: keep entry TTLs shorter than this.
   */
  readonly tagTtlSeconds?: number;
}

/** A rule that owns keys derived from the item. */
export interface KeyRule extends RuleBase {
  /** The cache key, or keys, this item owns. */
  readonly key: (item: Item, context: RuleContext) => string | readonly string[];
  /** How the keys are kept. */
  readonly strategy: KeyStrategy;
  /** Only `tags` rules name tags. */
  readonly tags?: undefined;
}

/**
 * A rule for query and list caches: every change to a matching item (INSERT, MODIFY, REMOVE)
 * invalidates every tag of its old and its new image, and with them every entry a reader filled
 * under those tags (`reader.getOrLoad(key, load, { tags })`). Needs NEW_AND_OLD_IMAGES.
 */
export interface TagsRule extends RuleBase {
  readonly strategy: 'tags';
  /** The tags this item belongs to, e.g. `orders-of:${order.customer}`. An empty list is no tag. */
  readonly tags: (item: Item, context: RuleContext) => string | readonly string[];
  /** A tags rule owns no key: readers name the entries. */
  readonly key?: undefined;
}

/** One cache rule. */
export type Rule = KeyRule | TagsRule;
