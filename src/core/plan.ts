/**
 * The pure core: stream records -> cache commands, driven by rules. No I/O.
 *
 * @module
 */
import { InvalidRecordError } from '../errors.js';
import { AttributeError, convertImage, defineAttribute, type Image } from './attributes.js';
import { resolveCodec } from './codecs.js';
import type { AnyCacheCommand } from './commands.js';
import type { AttributeMap, AttributeValue, Codec, Item, Rule, RuleContext, TtlDeletes } from './rules.js';
import { canonicalVersion, compareVersions } from './versioned.js';

/** Default `tombstoneTtlSeconds` of versioned rules: 24 h, beyond any stream retention window. */
export const DEFAULT_TOMBSTONE_TTL_SECONDS = 86_400;

/**
 * Where records come from. `dynamodb-streams` records carry `dynamodb.SequenceNumber` and
 * `eventSourceARN`; `kinesis` records are the JSON payloads of Kinesis Data Streams for
 * DynamoDB: no sequence number, the table in `tableName`, and `ApproximateCreationDateTime`
 * in milli- or microseconds.
 */
export type RecordSource = 'dynamodb-streams' | 'kinesis';

/** Options that apply to every rule unless the rule overrides them. */
export interface PlanOptions {
  /** What to do with deletes made by DynamoDB's Time to Live. Default `apply`. */
  readonly ttlDeletes?: TtlDeletes;
  /** Record shape. Default `dynamodb-streams`. */
  readonly source?: RecordSource;
}

/** Why a record produced no commands on purpose. */
export type SkipReason = 'no-matching-rule' | 'ttl-delete-ignored';

/** The plan for one record: its commands, or the error that kept it from being planned. */
export interface PlannedRecord {
  /** Position in the batch. */
  readonly index: number;
  /** The record's `dynamodb.SequenceNumber`, when it has a valid one. */
  readonly sequenceNumber: string | undefined;
  /** Commands in the order they must run. Empty when skipped or invalid. */
  readonly commands: readonly AnyCacheCommand[];
  /** Set when the record could not be planned. */
  readonly error?: InvalidRecordError;
  /** Set when the record was skipped on purpose. */
  readonly skipped?: SkipReason;
  /** `ApproximateCreationDateTime` in epoch seconds, when present (for lag metrics). */
  readonly approximateCreationDateTime?: number;
}

/** A rule with its defaults resolved, compiled once per handler. */
export interface CompiledRule {
  readonly name: string;
  readonly rule: Rule;
  readonly codec: Codec;
  readonly matchesTable: (table: string | undefined) => boolean;
}

/** Resolve names, codecs and table matchers once (at handler creation). */
export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  return rules.map((rule, i) => {
    const { table } = rule;
    const matchesTable =
      table === undefined
        ? () => true
        : typeof table === 'string'
          ? (name: string | undefined) => name === table
          : (name: string | undefined) => {
              if (name === undefined) return false;
              table.lastIndex = 0; // a /g or /y pattern keeps state between calls
              return table.test(name);
            };
    return { name: rule.name ?? `rules[${i}]`, rule, codec: resolveCodec(rule.codec), matchesTable };
  });
}

const EVENT_NAMES = new Set(['INSERT', 'MODIFY', 'REMOVE']);
const SEQUENCE = /^\d{1,128}$/;

/** Table name from `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`. */
export function tableFromArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const match = /:table\/([^/]+)/.exec(arn);
  return match?.[1];
}

/**
 * Kinesis Data Streams for DynamoDB stamps records in microseconds (the default) or
 * milliseconds (`ApproximateCreationDateTimePrecision`); the lag metric wants seconds.
 */
function kinesisTimestampSeconds(value: number, precision: unknown): number {
  if (precision === 'MICROSECOND' || (precision === undefined && value > 1e14)) return value / 1e6;
  return value / 1e3;
}

/** DynamoDB's Time to Live deletes are REMOVEs made by the service principal. */
function isTtlDelete(record: Record<string, unknown>): boolean {
  const identity = record['userIdentity'];
  if (typeof identity !== 'object' || identity === null) return false;
  const { type, principalId } = identity as Record<string, unknown>;
  return type === 'Service' && principalId === 'dynamodb.amazonaws.com';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Thrown inside rule functions when they read an attribute that the stream view left out. */
class MissingFromViewError extends Error {
  constructor(readonly attribute: string) {
    super(attribute);
  }
}

/** One side (old or new) of a change, as rules see it. */
interface Side {
  /** Which side of the change this is, even when only `Keys` are known for it. */
  readonly which: 'new' | 'old';
  readonly image: Image;
  /** True when only `Keys` are known for this side (the stream view carries no such image). */
  readonly keysOnly: boolean;
  readonly context: RuleContext;
}

/**
 * Wrap an item so that reading an attribute it lacks is noticed. On a keys-only side that is
 * an error (the view type cannot supply it); on a full image it is recorded so a key built
 * from a missing attribute ("user-by-email:undefined") can be refused.
 */
function watch(item: Item, keysOnly: boolean, missing: Set<string>, reads?: { undefinedInData: boolean }): Item {
  return new Proxy(item, {
    get(target, property, receiver) {
      if (typeof property === 'string' && !Object.prototype.hasOwnProperty.call(target, property)) {
        if (keysOnly && property !== 'toJSON' && property !== 'then') throw new MissingFromViewError(property);
        missing.add(property);
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      // An attribute whose own text contains "undefined" (a user named so) explains that text
      // in a key: the missing-attribute check must not refuse it.
      if (reads && typeof value === 'string' && value.includes('undefined')) reads.undefinedInData = true;
      return value;
    },
  });
}

interface Failure {
  readonly reason: string;
  readonly field?: string;
  readonly cause?: unknown;
}

class PlanFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.reason);
  }
}

function fail(reason: string, field?: string, cause?: unknown): never {
  throw new PlanFailure({ reason, field, cause });
}

function viewHint(view: string | undefined, side: 'old' | 'new'): string {
  const needed = side === 'new' ? 'NewImage' : 'OldImage';
  return `the record has no ${needed} (StreamViewType ${view ?? 'unknown'}); set the table's stream to NEW_AND_OLD_IMAGES or use a rule that needs only key attributes`;
}

function callRule<T>(fn: () => T, ruleField: string, side: Side, view: string | undefined): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof MissingFromViewError) {
      fail(`${ruleField} reads attribute ${JSON.stringify(error.attribute)}, but ${viewHint(view, side.which)}`, error.attribute);
    }
    fail(`${ruleField} threw ${error instanceof Error ? error.name : 'a non-Error value'}`, ruleField, error);
  }
}

function matches(compiled: CompiledRule, side: Side, view: string | undefined): boolean {
  const { when } = compiled.rule;
  if (when === undefined) return true;
  const item = watch(side.image.item, side.keysOnly, new Set());
  const result = callRule(() => when(item, side.context), 'when', side, view);
  if (typeof result !== 'boolean') fail(`when must return a boolean, got ${typeof result}`, 'when');
  return result;
}

function keysOf(compiled: CompiledRule, side: Side, view: string | undefined): string[] {
  const missing = new Set<string>();
  const reads = { undefinedInData: false };
  const item = watch(side.image.item, side.keysOnly, missing, reads);
  const result = callRule(() => compiled.rule.key(item, side.context), 'key', side, view);
  const keys = typeof result === 'string' ? [result] : result;
  if (!Array.isArray(keys)) fail(`key must return a string or an array of strings, got ${typeof result}`, 'key');
  for (const key of keys) {
    if (typeof key !== 'string' || key.length === 0) fail('key returned an empty or non-string key', 'key');
    if (missing.size > 0 && !reads.undefinedInData && key.includes('undefined')) {
      const attribute = [...missing][0];
      fail(
        `key was built from attribute ${JSON.stringify(attribute)}, which the item does not have (the key contains "undefined"); guard the rule with when() or give the attribute a default`,
        attribute,
      );
    }
  }
  return keys;
}

function project(image: Image, attributes: readonly string[] | undefined): Image {
  if (attributes === undefined) return image;
  const item: Item = {};
  const raw: AttributeMap = {};
  for (const name of attributes) {
    const plain = image.item[name];
    const av = image.raw[name];
    if (Object.prototype.hasOwnProperty.call(image.raw, name) && av !== undefined) {
      defineAttribute(item, name, plain);
      defineAttribute(raw, name, av);
    }
  }
  return { item, raw };
}

function encode(compiled: CompiledRule, side: Side): string {
  const { rule, codec } = compiled;
  const projected = project(side.image, rule.attributes);
  const transformed = rule.value !== undefined;
  const value = rule.value
    ? callRule(() => rule.value?.(projected.item, side.context), 'value', side, undefined)
    : projected.item;
  // An async value() would otherwise be cached as the JSON of a Promise: "{}".
  if (typeof (value as { then?: unknown } | null | undefined)?.then === 'function') fail('value returned a Promise; value functions must be synchronous', 'value');
  let encoded: unknown;
  try {
    encoded = codec.encode(value, { image: projected.raw, transformed });
  } catch (error) {
    fail(`codec ${codec.name} could not encode the value`, 'codec', error);
  }
  // JSON.stringify returns undefined for undefined, functions and symbols: never store that.
  if (typeof encoded !== 'string') {
    fail(`codec ${codec.name} produced ${typeof encoded}, not a string; value() must return something the codec can encode (not undefined, a function or a symbol)`, 'codec');
  }
  return encoded;
}

/** What the versioned strategy needs to know about the record beyond its images. */
interface RecordFacts {
  readonly sequenceNumber: string | undefined;
  readonly source: RecordSource;
}

function versionAttribute(side: Side, attribute: string, view: string | undefined): string {
  const av: AttributeValue | undefined = side.image.raw[attribute];
  if (av === undefined) {
    if (side.keysOnly) fail(`version attribute ${JSON.stringify(attribute)} is needed, but ${viewHint(view, side.context.image === 'new' ? 'new' : 'old')}`, attribute);
    fail(`version attribute ${JSON.stringify(attribute)} is missing from the ${side.context.image} image; every item a versioned rule caches needs it`, attribute);
  }
  const text = 'N' in av ? av.N : 'S' in av ? av.S : undefined;
  const version = typeof text === 'string' ? canonicalVersion(text) : undefined;
  if (version === undefined) {
    fail(`version attribute ${JSON.stringify(attribute)} must be a non-negative integer (N, or S of decimal digits, at most 128 digits), got ${JSON.stringify(av)}`, attribute);
  }
  return version;
}

function recordVersion(compiled: CompiledRule, side: Side, facts: RecordFacts, view: string | undefined): string {
  const source = compiled.rule.version;
  if (source === 'sequenceNumber') {
    if (facts.source === 'kinesis' || facts.sequenceNumber === undefined) {
      fail('version "sequenceNumber" needs DynamoDB Streams records; Kinesis Data Streams records carry no SequenceNumber: use version: { attribute: "..." }', 'version');
    }
    return canonicalVersion(facts.sequenceNumber) ?? fail('SequenceNumber is not a decimal string', 'dynamodb.SequenceNumber');
  }
  if (source === undefined) fail('a versioned rule needs version: "sequenceNumber" or { attribute }', 'version');
  return versionAttribute(side, source.attribute, view);
}

function planVersioned(
  compiled: CompiledRule,
  oldSide: Side | undefined,
  newSide: Side | undefined,
  oldKeys: readonly string[],
  newMatches: boolean,
  view: string | undefined,
  facts: RecordFacts,
): AnyCacheCommand[] {
  const { rule } = compiled;
  const tombstoneTtlSeconds = rule.tombstoneTtlSeconds ?? DEFAULT_TOMBSTONE_TTL_SECONDS;
  // REMOVE (no new side): the deleted item's own version, which the tombstone outranks.
  const versionSide = newSide ?? oldSide;
  if (versionSide === undefined) return [];
  const version = recordVersion(compiled, versionSide, facts, view);
  if (newSide && oldSide && typeof rule.version === 'object' && !oldSide.keysOnly && oldSide.image.raw[rule.version.attribute] !== undefined) {
    const before = versionAttribute(oldSide, rule.version.attribute, view);
    if (compareVersions(version, before) <= 0) {
      fail(
        `version attribute ${JSON.stringify(rule.version.attribute)} did not increase (${before} -> ${version}); the versioned strategy refuses writes that are not strictly newer, so the cache would keep the old value. Increase it on every write`,
        rule.version.attribute,
      );
    }
  }
  const tombstone = (key: string): AnyCacheCommand => ({ kind: 'delete-versioned', key, version, tombstoneTtlSeconds });
  const newKeys = newSide && newMatches ? [...new Set(keysOf(compiled, newSide, view))] : [];
  if (rule.writes === 'tombstone' || newSide === undefined || !newMatches) {
    return [...new Set([...oldKeys, ...newKeys])].map(tombstone);
  }
  if (newSide.keysOnly) fail(`versioned needs the new item, but ${viewHint(view, 'new')}`, 'dynamodb.NewImage');
  const value = encode(compiled, newSide);
  const owned = new Set(newKeys);
  const commands: AnyCacheCommand[] = [];
  for (const key of new Set(oldKeys)) if (!owned.has(key)) commands.push(tombstone(key));
  for (const key of newKeys) {
    commands.push(rule.ttlSeconds === undefined ? { kind: 'set-versioned', key, value, version } : { kind: 'set-versioned', key, value, version, ttlSeconds: rule.ttlSeconds });
  }
  return commands;
}

function planRule(
  compiled: CompiledRule,
  oldSide: Side | undefined,
  newSide: Side | undefined,
  view: string | undefined,
  facts: RecordFacts,
): AnyCacheCommand[] {
  const oldKeys = oldSide && matches(compiled, oldSide, view) ? keysOf(compiled, oldSide, view) : [];
  const newMatches = newSide !== undefined && matches(compiled, newSide, view);
  const { rule } = compiled;

  if (rule.strategy === 'versioned') return planVersioned(compiled, oldSide, newSide, oldKeys, newMatches, view, facts);

  if (rule.strategy === 'invalidate') {
    const newKeys = newSide && newMatches ? keysOf(compiled, newSide, view) : [];
    return [...new Set([...oldKeys, ...newKeys])].map((key) => ({ kind: 'delete', key }));
  }

  // write-through
  if (!newSide || !newMatches) return [...new Set(oldKeys)].map((key) => ({ kind: 'delete', key }));
  if (newSide.keysOnly) fail(`write-through needs the new item, but ${viewHint(view, 'new')}`, 'dynamodb.NewImage');
  const newKeys = [...new Set(keysOf(compiled, newSide, view))];
  const value = encode(compiled, newSide);
  const commands: AnyCacheCommand[] = [];
  const owned = new Set(newKeys);
  // Keys the old image owned and the new one does not (e.g. a changed email) must go.
  for (const key of new Set(oldKeys)) if (!owned.has(key)) commands.push({ kind: 'delete', key });
  for (const key of newKeys) {
    commands.push(rule.ttlSeconds === undefined ? { kind: 'set', key, value } : { kind: 'set', key, value, ttlSeconds: rule.ttlSeconds });
  }
  return commands;
}

function planRecord(raw: unknown, index: number, rules: readonly CompiledRule[], options: PlanOptions): PlannedRecord {
  let sequenceNumber: string | undefined;
  let currentRule: string | undefined;
  let approximateCreationDateTime: number | undefined;
  try {
    if (!isObject(raw)) fail('record is not an object');
    const source = options.source ?? 'dynamodb-streams';
    const ddb = raw['dynamodb'];
    if (!isObject(ddb)) {
      if (raw['eventSource'] === 'aws:kinesis') fail('this is a Kinesis record; use createKinesisStreamHandler for Kinesis Data Streams for DynamoDB', 'eventSource');
      fail('record has no dynamodb object; is this a DynamoDB Streams event?', 'dynamodb');
    }
    if (source === 'dynamodb-streams') {
      const seq = ddb['SequenceNumber'];
      if (typeof seq !== 'string' || !SEQUENCE.test(seq)) fail('SequenceNumber is missing or not a decimal string', 'dynamodb.SequenceNumber');
      sequenceNumber = seq;
    }
    const created = ddb['ApproximateCreationDateTime'];
    if (typeof created === 'number' && Number.isFinite(created)) {
      approximateCreationDateTime = source === 'kinesis' ? kinesisTimestampSeconds(created, ddb['ApproximateCreationDateTimePrecision']) : created;
    }

    const eventName = raw['eventName'];
    if (typeof eventName !== 'string' || !EVENT_NAMES.has(eventName)) {
      fail(
        `eventName ${JSON.stringify(eventName)} is not INSERT, MODIFY or REMOVE` +
          (eventName === 'UNKNOWN_TO_SDK_VERSION' ? ' (DynamoDB Local labels TTL deletes so; normalize records to the Lambda event shape first)' : ''),
        'eventName',
      );
    }
    const name = eventName as RuleContext['eventName'];
    const table = source === 'kinesis' && typeof raw['tableName'] === 'string' ? raw['tableName'] : tableFromArn(raw['eventSourceARN']);
    const applicable = rules.filter((r) => r.matchesTable(table));
    if (applicable.length === 0) return { index, sequenceNumber, commands: [], skipped: 'no-matching-rule', approximateCreationDateTime };

    const view = typeof ddb['StreamViewType'] === 'string' ? ddb['StreamViewType'] : undefined;
    const convert = (field: 'Keys' | 'NewImage' | 'OldImage'): Image | undefined => {
      const value = ddb[field];
      if (value === undefined || value === null) return undefined;
      try {
        return convertImage(value, `dynamodb.${field}`);
      } catch (error) {
        if (error instanceof AttributeError) fail(error.message, error.path);
        throw error;
      }
    };
    const keys = convert('Keys');
    if (keys === undefined) fail('record has no Keys', 'dynamodb.Keys');
    const newImage = name === 'REMOVE' ? undefined : convert('NewImage');
    const oldImage = name === 'INSERT' ? undefined : convert('OldImage');
    const side = (image: Image | undefined, which: 'new' | 'old'): Side => ({
      which,
      image: image ?? keys,
      keysOnly: image === undefined,
      context: { table, eventName: name, image: image === undefined ? 'keys' : which },
    });
    const newSide = name === 'REMOVE' ? undefined : side(newImage, 'new');
    const oldSide = name === 'INSERT' ? undefined : side(oldImage, 'old');

    const ttlDelete = name === 'REMOVE' && isTtlDelete(raw);
    const commands: AnyCacheCommand[] = [];
    const facts: RecordFacts = { sequenceNumber, source };
    let ignoredTtl = false;
    for (const compiled of applicable) {
      if (ttlDelete && (compiled.rule.ttlDeletes ?? options.ttlDeletes ?? 'apply') === 'ignore') {
        ignoredTtl = true;
        continue;
      }
      currentRule = compiled.name;
      commands.push(...planRule(compiled, oldSide, newSide, view, facts));
    }
    currentRule = undefined;
    if (commands.length === 0 && ignoredTtl) return { index, sequenceNumber, commands, skipped: 'ttl-delete-ignored', approximateCreationDateTime };
    return { index, sequenceNumber, commands, approximateCreationDateTime };
  } catch (error) {
    const failure: Failure =
      error instanceof PlanFailure ? error.failure : { reason: `unexpected error: ${error instanceof Error ? error.message : String(error)}`, cause: error };
    return {
      index,
      sequenceNumber,
      commands: [],
      approximateCreationDateTime,
      error: new InvalidRecordError(failure.reason, { sequenceNumber, index, rule: currentRule, field: failure.field }, { cause: failure.cause }),
    };
  }
}

/**
 * Plan the cache commands for a batch of stream records. Pure: no I/O, never throws for bad
 * records (each gets an {@link InvalidRecordError} naming the sequence number, rule and field).
 *
 * @example
 * ```ts
 * const plans = planCommands(event.Records, [
 *   { key: (item) => `user:${item.pk}`, strategy: 'write-through', ttlSeconds: 300 },
 * ]);
 * for (const p of plans) console.log(p.sequenceNumber, p.error?.message ?? p.commands);
 * ```
 */
export function planCommands(records: readonly unknown[], rules: readonly Rule[] | readonly CompiledRule[], options: PlanOptions = {}): PlannedRecord[] {
  const compiled = isCompiled(rules) ? rules : compileRules(rules);
  return records.map((record, index) => planRecord(record, index, compiled, options));
}

function isCompiled(rules: readonly Rule[] | readonly CompiledRule[]): rules is readonly CompiledRule[] {
  const first = rules[0];
  return first !== undefined && 'matchesTable' in first;
}
