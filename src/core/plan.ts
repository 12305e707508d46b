/**
 * The pure core: stream records -> cache commands, driven by rules. No I/O.
 *
 * A record flows: a source's decoder ({@link ChangeDecoder}) turns it into a normalized
 * {@link StreamChange}; the rules whose table matches are looked up in the strategy table
 * (`./strategies`), and each strategy plans its commands.
 *
 * @module
 */
import { InvalidRecordError } from '../errors.js';
import { AttributeError, decodeWhole, type Image } from './attributes.js';
import type { ChangeDecoder, RecordSource, StreamChange } from './change.js';
import type { AnyCacheCommand } from './commands.js';
import { compileRules, isCompiled, type CompiledRule } from './compiled-rule.js';
import { fail, PlanFailure, type Failure } from './failure.js';
import { ruleKeys, ruleMatches, type Side } from './rule-eval.js';
import type { Rule, TtlDeletes } from './rules.js';
import { RECORD_SOURCES } from './sources/index.js';
import { STRATEGIES } from './strategies/index.js';

export type { ChangeDecoder, RecordSource, StreamChange } from './change.js';
export { compileRules, type CompiledRule } from './compiled-rule.js';
export { tableFromArn } from './sources/index.js';
export { DEFAULT_TOMBSTONE_TTL_SECONDS } from './strategies/index.js';

/** Options that apply to every rule unless the rule overrides them. */
export interface PlanOptions {
  /** What to do with deletes made by DynamoDB's Time to Live. Default `apply`. */
  readonly ttlDeletes?: TtlDeletes;
  /** Record shape. Default `dynamodb-streams`. */
  readonly source?: RecordSource;
  /** Decode records with this instead of the decoder of `source`. */
  readonly decoder?: ChangeDecoder;
  /**
   * Most cache keys one record may touch, over all its rules; a record above it fails with an
   * {@link InvalidRecordError} naming the rule and the count. Default {@link DEFAULT_MAX_KEYS_PER_RECORD}.
   */
  readonly maxKeysPerRecord?: number;
}

/**
 * Default `maxKeysPerRecord`. High enough for any sane fan-out; it exists so one hostile or
 * buggy record cannot turn into millions of cache writes.
 */
export const DEFAULT_MAX_KEYS_PER_RECORD = 100_000;

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
  /** The record's table, when it was skipped because no rule's `table` matches it (for the handler's warning). */
  readonly unmatchedTable?: string;
  /** `ApproximateCreationDateTime` in epoch seconds, when present (for lag metrics). */
  readonly approximateCreationDateTime?: number;
}

function sidesOf(change: StreamChange): { oldSide: Side | undefined; newSide: Side | undefined } {
  const { keys, newImage, oldImage } = change.images();
  const side = (image: Image | undefined, which: 'new' | 'old'): Side => ({
    which,
    image: image ?? keys,
    keysOnly: image === undefined,
    context: { table: change.table, eventName: change.eventName, image: image === undefined ? 'keys' : which },
  });
  return {
    newSide: change.eventName === 'REMOVE' ? undefined : side(newImage, 'new'),
    oldSide: change.eventName === 'INSERT' ? undefined : side(oldImage, 'old'),
  };
}

function planRule(compiled: CompiledRule, change: StreamChange, oldSide: Side | undefined, newSide: Side | undefined): AnyCacheCommand[] {
  const oldKeys = oldSide && ruleMatches(compiled, oldSide, change.view) ? ruleKeys(compiled, oldSide, change.view) : [];
  const newMatches = newSide !== undefined && ruleMatches(compiled, newSide, change.view);
  return STRATEGIES[compiled.rule.strategy].plan({ compiled, change, oldSide, newSide, oldKeys, newMatches });
}

/** The rules whose table matches: `rules` itself when all do (one rule per table, the usual case). */
function rulesFor(rules: readonly CompiledRule[], table: string | undefined): readonly CompiledRule[] {
  for (let i = 0; i < rules.length; i++) {
    if (!(rules[i] as CompiledRule).matchesTable(table)) return rules.filter((r) => r.matchesTable(table));
  }
  return rules;
}

/** Plan one decoded change; `onRule` learns which rule is being planned, for the error. */
function planChange(
  change: StreamChange,
  index: number,
  rules: readonly CompiledRule[],
  options: PlanOptions,
  onRule: (name: string | undefined) => void,
): PlannedRecord {
  const { sequenceNumber, approximateCreationDateTime } = change;
  const applicable = rulesFor(rules, change.table);
  if (applicable.length === 0) {
    return { index, sequenceNumber, commands: [], skipped: 'no-matching-rule', approximateCreationDateTime, unmatchedTable: change.table ?? '(none)' };
  }
  const { oldSide, newSide } = sidesOf(change);
  // A rule that caches the new image validates all of it first, so its malformed attributes fail
  // the record before any rule function runs; other rules convert only what they read.
  if (newSide !== undefined && !newSide.keysOnly && applicable.some((r) => r.cachesNewImage)) {
    decodeWhole(newSide.image);
  }
  const maxKeys = options.maxKeysPerRecord ?? DEFAULT_MAX_KEYS_PER_RECORD;
  const commands: AnyCacheCommand[] = [];
  let ignoredTtl = false;
  for (const compiled of applicable) {
    if (change.ttlDelete && (compiled.rule.ttlDeletes ?? options.ttlDeletes ?? 'apply') === 'ignore') {
      ignoredTtl = true;
      continue;
    }
    onRule(compiled.name);
    const planned = planRule(compiled, change, oldSide, newSide);
    // A loop, not push(...planned): spreading a large fan-out into arguments overflows the stack.
    for (const command of planned) commands.push(command);
    if (commands.length > maxKeys) {
      fail(`the record touches ${commands.length} cache keys, more than maxKeysPerRecord (${maxKeys}); this rule returned ${planned.length}`, 'key');
    }
  }
  onRule(undefined);
  if (commands.length === 0 && ignoredTtl) return { index, sequenceNumber, commands, skipped: 'ttl-delete-ignored', approximateCreationDateTime };
  return { index, sequenceNumber, commands, approximateCreationDateTime };
}

function planRecord(raw: unknown, index: number, rules: readonly CompiledRule[], options: PlanOptions, decoder: ChangeDecoder): PlannedRecord {
  let change: StreamChange | undefined;
  let currentRule: string | undefined;
  try {
    change = decoder.decode(raw);
    return planChange(change, index, rules, options, (name) => (currentRule = name));
  } catch (error) {
    const known = change ?? (error instanceof PlanFailure ? error.known : {});
    const { sequenceNumber, approximateCreationDateTime } = known;
    // A malformed attribute is the record's fault whichever rule read it first: no rule is named.
    if (error instanceof AttributeError) currentRule = undefined;
    const failure: Failure =
      error instanceof PlanFailure
        ? error.failure
        : error instanceof AttributeError
          ? { reason: error.message, field: error.path }
          : {
              reason: `unexpected error: ${error instanceof Error ? error.name : 'a non-Error value'} (its message may hold item data; see the cause)`,
              cause: error,
            };
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
  const decoder = options.decoder ?? RECORD_SOURCES[options.source ?? 'dynamodb-streams'];
  return records.map((record, index) => planRecord(record, index, compiled, options, decoder));
}
