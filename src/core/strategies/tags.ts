/**
 * `tags`: query and list caches. Every change of a matching item (INSERT, MODIFY, REMOVE)
 * replaces the state of every tag of its old and its new image with a fresh token, so every
 * entry a reader filled under one of those tags becomes unreachable (see `../tags.ts`). An
 * order moving from customer c1 to c2 invalidates both customers' lists.
 *
 * @module
 */
import type { AnyCacheCommand } from '../commands.js';
import { fail } from '../failure.js';
import { ruleMatches, ruleTags } from '../rule-eval.js';
import { DEFAULT_TAG_TTL_SECONDS, newTagState, tagKey } from '../tags.js';
import type { RuleIssue, StrategyDefinition } from './types.js';

const NEEDED_VIEW = 'NEW_AND_OLD_IMAGES';

/** Options a tags rule cannot use: it stores no item. */
const VALUE_OPTIONS = ['ttlSeconds', 'attributes', 'value', 'codec'] as const;

export const tags: StrategyDefinition = {
  name: 'tags',
  options: ['tags', 'tagTtlSeconds'],
  keyless: true,
  check(rule) {
    const issues: RuleIssue[] = [];
    if (typeof rule.tags !== 'function') issues.push({ field: 'tags', message: 'a tags rule needs tags: (item, context) => string | string[]' });
    for (const option of VALUE_OPTIONS) {
      if (rule[option] !== undefined) issues.push({ field: option, message: "a tags rule caches no value; readers choose the entry's TTL and encoding" });
    }
    const ttl = rule.tagTtlSeconds;
    if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl <= 0))
      issues.push({ field: 'tagTtlSeconds', message: 'must be a positive whole number of seconds' });
    return issues;
  },
  plan({ compiled, change, oldSide, newSide, newMatches }) {
    // Without both images a change cannot name the tags it leaves (old) and joins (new).
    const partial = [oldSide, newSide].some((side) => side?.keysOnly === true);
    if (partial || (change.view !== undefined && change.view !== NEEDED_VIEW)) {
      fail(
        `a tags rule needs both images, but the record's StreamViewType is ${change.view ?? 'unknown'}; set the table's stream to ${NEEDED_VIEW}`,
        'dynamodb.StreamViewType',
      );
    }
    const { rule } = compiled;
    const oldTags = oldSide && ruleMatches(compiled, oldSide, change.view) ? ruleTags(compiled, oldSide, change.view) : [];
    const newTags = newSide && newMatches ? ruleTags(compiled, newSide, change.view) : [];
    const ttlSeconds = rule.tagTtlSeconds ?? DEFAULT_TAG_TTL_SECONDS;
    const now = Date.now();
    return [...new Set([...oldTags, ...newTags])].map((tag): AnyCacheCommand => ({ kind: 'set', key: tagKey(tag), value: newTagState(now), ttlSeconds }));
  },
};
