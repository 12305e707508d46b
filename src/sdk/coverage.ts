/**
 * Which GetItem requests the cache can answer, and from which key: the decision table of
 * `docs/concepts.md` ("Reading through the cache"), in one place.
 *
 * @module
 */
import type { GetItemCommandInput } from '@aws-sdk/client-dynamodb';
import { convertImage } from '../core/attributes.js';
import { dynamodbCodec } from '../core/codecs.js';
import type { CompiledRule } from '../core/compiled-rule.js';
import { ruleKeys, ruleMatches, type Side } from '../core/rule-eval.js';

/** Why a GetItem went to the table untouched. */
export type PassThroughReason =
  | 'consistent-read'
  | 'consumed-capacity'
  | 'projection'
  | 'no-rule'
  | 'key-not-computable'
  | 'ambiguous'
  | 'not-item'
  | 'key-form';

/** How one covered GetItem is served. */
export interface CoveredRead {
  readonly kind: 'covered';
  readonly rule: CompiledRule;
  /** The cache key the rule gives for the request's `Key`. */
  readonly key: string;
  /** Top-level attributes the caller asked for; undefined for the whole item. */
  readonly names: readonly string[] | undefined;
}

/** The decision for one GetItem. */
export type ReadDecision = CoveredRead | { readonly kind: 'pass'; readonly reason: PassThroughReason };

const pass = (reason: PassThroughReason): ReadDecision => ({ kind: 'pass', reason });

const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * The top-level names a projection asks for, or `null` when it asks for more than top-level
 * attributes (`a.b`, `a[0]`), which the cached form is not split into.
 */
export function requestedNames(input: GetItemCommandInput): readonly string[] | undefined | null {
  if (input.AttributesToGet !== undefined) return input.AttributesToGet;
  if (input.ProjectionExpression === undefined) return undefined;
  const names: string[] = [];
  for (const token of input.ProjectionExpression.split(',')) {
    const path = token.trim();
    if (path.startsWith('#')) {
      const name = input.ExpressionAttributeNames?.[path];
      if (name === undefined) return null;
      names.push(name);
    } else if (PLAIN_NAME.test(path)) names.push(path);
    else return null;
  }
  return names;
}

/** The table name from `TableName`, which may also be a table ARN. */
export function tableName(name: string | undefined): string | undefined {
  if (name === undefined || !name.startsWith('arn:')) return name;
  const match = /:table\/([^/]+)/.exec(name);
  return match?.[1];
}

/** Rules that could answer from the cache at all: they store the item itself, losslessly. */
export function storesItem(compiled: CompiledRule): boolean {
  return compiled.rule.value === undefined && compiled.codec === dynamodbCodec;
}

/**
 * The one servable rule that owns a key computable from `Key` alone. Rule functions run on a
 * keys-only image, so one that reads a non-key attribute fails the way it does on a KEYS_ONLY
 * stream (the planner's own check), and that rule is simply not a candidate.
 */
function ownerOf(rules: readonly CompiledRule[], key: unknown, table: string): { rule: CompiledRule; key: string } | PassThroughReason {
  let side: Side;
  try {
    side = { which: 'new', image: convertImage(key, 'Key'), keysOnly: true, context: { table, eventName: 'MODIFY', image: 'keys' } };
  } catch {
    // Not AttributeValues: DynamoDBDocumentClient's native input, or a malformed request the
    // table itself should reject.
    return 'key-form';
  }
  const owners: { rule: CompiledRule; key: string }[] = [];
  let undecidable = false;
  for (const compiled of rules) {
    try {
      if (!ruleMatches(compiled, side, undefined)) continue;
      const [first] = ruleKeys(compiled, side, undefined);
      if (first !== undefined) owners.push({ rule: compiled, key: first });
    } catch {
      undecidable = true;
    }
  }
  const [owner, second] = owners;
  if (second !== undefined) return 'ambiguous';
  return owner ?? (undecidable ? 'key-not-computable' : 'no-rule');
}

/**
 * Decide one GetItem. `servable` are the table's rules that store the item itself (cached per
 * table by the caller); `anyRule` says whether the table has rules at all.
 */
export function decideRead(input: GetItemCommandInput, servable: readonly CompiledRule[], anyRule: boolean): ReadDecision {
  if (input.ConsistentRead === true) return pass('consistent-read');
  if (input.ReturnConsumedCapacity !== undefined && input.ReturnConsumedCapacity !== 'NONE') return pass('consumed-capacity');
  const table = tableName(input.TableName);
  if (table === undefined || !anyRule) return pass('no-rule');
  if (servable.length === 0) return pass('not-item');
  const names = requestedNames(input);
  if (names === null) return pass('projection');
  const owner = ownerOf(servable, input.Key, table);
  if (typeof owner === 'string') return pass(owner);
  const cached = owner.rule.rule.attributes;
  // A rule with `attributes` caches part of the item: it can answer only for those names.
  if (cached !== undefined && (names === undefined || names.some((n) => !cached.includes(n)))) return pass('projection');
  return { kind: 'covered', rule: owner.rule, key: owner.key, names };
}
