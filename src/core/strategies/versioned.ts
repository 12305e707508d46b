/**
 * `versioned`: like write-through (or, with `writes: 'tombstone'`, like invalidate), but every
 * write carries the record's version and applies only if strictly newer than what the key
 * holds; deletes leave tombstones. Safe under replays, duplicates and reordering.
 *
 * @module
 */
import { attributeValue } from '../attributes.js';
import type { AttributeValue } from '../rules.js';
import type { StreamChange } from '../change.js';
import { supportsVersioned, type AnyCacheCommand } from '../commands.js';
import type { CompiledRule } from '../compiled-rule.js';
import { fail, viewHint } from '../failure.js';
import { encodeValue, ruleKeys, type Side } from '../rule-eval.js';
import { canonicalVersion, compareVersions } from '../versioned.js';
import { describeValue } from '../key-hash.js';
import type { RuleChange, RuleIssue, StrategyDefinition } from './types.js';

/**
 * Default `tombstoneTtlSeconds` of versioned rules: 25 h. A tombstone must outlive the oldest record
 * that can still arrive: the stream keeps records 24 h (the template caps `MaximumRecordAgeInSeconds`
 * at 86,400), plus the retry window of a batch that was in flight when the record was written.
 */
export const DEFAULT_TOMBSTONE_TTL_SECONDS = 90_000;

/** An AttributeValue's type and length, for a message: never its content (item data). */
function describeAttributeValue(av: AttributeValue): string {
  const [tag] = Object.keys(av);
  return `${tag ?? 'no type'} (${describeValue(tag === undefined ? undefined : (av as Record<string, unknown>)[tag])})`;
}

function versionAttribute(side: Side, attribute: string, view: string | undefined): string {
  const av = attributeValue(side.image, attribute);
  if (av === undefined) {
    if (side.keysOnly)
      fail(`version attribute ${JSON.stringify(attribute)} is needed, but ${viewHint(view, side.context.image === 'new' ? 'new' : 'old')}`, attribute);
    fail(
      `version attribute ${JSON.stringify(attribute)} is missing from the ${side.context.image} image; every item a versioned rule caches needs it`,
      attribute,
    );
  }
  const text = 'N' in av ? av.N : 'S' in av ? av.S : undefined;
  const version = typeof text === 'string' ? canonicalVersion(text) : undefined;
  if (version === undefined) {
    fail(
      `version attribute ${JSON.stringify(attribute)} must be a non-negative integer (N, or S of decimal digits, at most 128 digits), got ${describeAttributeValue(av)}`,
      attribute,
    );
  }
  return version;
}

function recordVersion(compiled: CompiledRule, side: Side, change: StreamChange): string {
  const source = compiled.rule.version;
  if (source === 'sequenceNumber') {
    if (change.sequenceNumber === undefined) {
      fail(
        'version "sequenceNumber" needs DynamoDB Streams records; Kinesis Data Streams records carry no SequenceNumber: use version: { attribute: "..." }',
        'version',
      );
    }
    return canonicalVersion(change.sequenceNumber) ?? fail('SequenceNumber is not a decimal string', 'dynamodb.SequenceNumber');
  }
  if (source === undefined) fail('a versioned rule needs version: "sequenceNumber" or { attribute }', 'version');
  return versionAttribute(side, source.attribute, change.view);
}

/** A MODIFY whose version attribute did not grow would be refused by the cache: say so now. */
function checkIncreased({ compiled, change, oldSide, newSide }: RuleChange, version: string): void {
  const { version: source } = compiled.rule;
  if (!newSide || !oldSide || typeof source !== 'object' || oldSide.keysOnly || attributeValue(oldSide.image, source.attribute) === undefined) return;
  const before = versionAttribute(oldSide, source.attribute, change.view);
  if (compareVersions(version, before) <= 0) {
    fail(
      `version attribute ${JSON.stringify(source.attribute)} did not increase (the new image's is not greater than the old image's); the versioned strategy refuses writes that are not strictly newer, so the cache would keep the old value. Increase it on every write`,
      source.attribute,
    );
  }
}

function plan(input: RuleChange): AnyCacheCommand[] {
  const { compiled, change, oldSide, newSide, oldKeys, newMatches } = input;
  const { rule } = compiled;
  const tombstoneTtlSeconds = rule.tombstoneTtlSeconds ?? DEFAULT_TOMBSTONE_TTL_SECONDS;
  // REMOVE (no new side): the deleted item's own version, which the tombstone outranks.
  const versionSide = newSide ?? oldSide;
  if (versionSide === undefined) return [];
  const version = recordVersion(compiled, versionSide, change);
  checkIncreased(input, version);
  const tombstone = (key: string): AnyCacheCommand => ({ kind: 'delete-versioned', key, version, tombstoneTtlSeconds });
  const newKeys = newSide && newMatches ? [...new Set(ruleKeys(compiled, newSide, change.view))] : [];
  if (rule.writes === 'tombstone' || newSide === undefined || !newMatches) {
    return [...new Set([...oldKeys, ...newKeys])].map(tombstone);
  }
  if (newSide.keysOnly) fail(`versioned needs the new item, but ${viewHint(change.view, 'new')}`, 'dynamodb.NewImage');
  const value = encodeValue(compiled, newSide);
  const owned = new Set(newKeys);
  const commands: AnyCacheCommand[] = [];
  for (const key of new Set(oldKeys)) if (!owned.has(key)) commands.push(tombstone(key));
  for (const key of newKeys) {
    commands.push(
      rule.ttlSeconds === undefined
        ? { kind: 'set-versioned', key, value, version }
        : { kind: 'set-versioned', key, value, version, ttlSeconds: rule.ttlSeconds },
    );
  }
  return commands;
}

export const versioned: StrategyDefinition = {
  name: 'versioned',
  options: ['version', 'writes', 'tombstoneTtlSeconds'],
  cachesNewImage: (rule) => rule.writes !== 'tombstone',
  check(rule, { adapter, source }) {
    const issues: RuleIssue[] = [];
    if (rule.version === undefined) issues.push({ field: 'version', message: "a versioned rule needs version: 'sequenceNumber' or { attribute: 'version' }" });
    if (rule.version === 'sequenceNumber' && !source.sequenceNumbers) {
      issues.push({
        field: 'version',
        message: `${source.label} records carry no DynamoDB SequenceNumber; use version: { attribute: '...' } with an attribute you increase on every write`,
      });
    }
    if (!supportsVersioned(adapter)) {
      issues.push({
        field: 'strategy',
        message: `adapter ${adapter.name} does not implement versioned commands and leases; use a versioned-capable adapter or strategy 'invalidate'`,
      });
    }
    return issues;
  },
  plan,
};
