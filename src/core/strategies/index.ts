/**
 * The strategy table: the planner and the config checks look strategies up here. Adding a
 * strategy is a module exporting a {@link StrategyDefinition} and an entry below (plus its
 * name in the `Strategy` type and its options in the handler's option schema).
 *
 * @module
 */
import type { Rule, Strategy } from '../rules.js';
import { invalidate } from './invalidate.js';
import { tags } from './tags.js';
import type { RuleIssue, StrategyDefinition, StrategyEnvironment } from './types.js';
import { versioned } from './versioned.js';
import { writeThrough } from './write-through.js';

export const STRATEGIES: Readonly<Record<Strategy, StrategyDefinition>> = {
  invalidate,
  'write-through': writeThrough,
  versioned,
  tags,
};

/** The strategy names, in table order. */
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as Strategy[];

/** Options some strategy owns, with the strategies that read them. */
const OWNED_OPTIONS = new Map<keyof Rule, Strategy[]>();
for (const definition of Object.values(STRATEGIES)) {
  for (const option of definition.options) OWNED_OPTIONS.set(option, [...(OWNED_OPTIONS.get(option) ?? []), definition.name]);
}

/** Every problem with one rule's strategy and its options, relative to the rule. */
export function strategyIssues(rule: Rule, environment: StrategyEnvironment): RuleIssue[] {
  const definition = STRATEGIES[rule.strategy];
  const issues = definition.check(rule, environment);
  if (definition.keyless && rule.key !== undefined)
    issues.push({ field: 'key', message: `a '${rule.strategy}' rule has no key; readers name the entries (see docs/strategies.md)` });
  if (!definition.keyless && typeof rule.key !== 'function') issues.push({ field: 'key', message: 'required: a function (item => string | string[])' });
  for (const [option, owners] of OWNED_OPTIONS) {
    if (!owners.includes(rule.strategy) && rule[option] !== undefined) {
      issues.push({ field: option, message: `only applies to strategy ${owners.map((name) => `'${name}'`).join(' or ')}` });
    }
  }
  return issues;
}

export type { RuleChange, RuleIssue, StrategyDefinition, StrategyEnvironment } from './types.js';
export { DEFAULT_TOMBSTONE_TTL_SECONDS } from './versioned.js';
