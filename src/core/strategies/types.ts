/**
 * What a strategy is: one module that plans a rule's commands for a change and checks the
 * rule's options at handler creation.
 *
 * @module
 */
import type { StreamChange, SourceTraits } from '../change.js';
import type { AnyCacheCommand, CacheAdapter } from '../commands.js';
import type { CompiledRule } from '../compiled-rule.js';
import type { Side } from '../rule-eval.js';
import type { Rule, Strategy } from '../rules.js';

/** One rule applied to one change: what a strategy plans from. */
export interface RuleChange {
  readonly compiled: CompiledRule;
  readonly change: StreamChange;
  /** Absent on INSERT. */
  readonly oldSide: Side | undefined;
  /** Absent on REMOVE. */
  readonly newSide: Side | undefined;
  /** Keys the old image owns under this rule; empty when there is none or `when` refuses it. */
  readonly oldKeys: readonly string[];
  /** The new image exists and `when` accepts it. */
  readonly newMatches: boolean;
}

/** What a rule's checks may depend on besides the rule. */
export interface StrategyEnvironment {
  readonly adapter: CacheAdapter;
  readonly source: SourceTraits;
}

/** A problem with one option of a rule; `field` is relative to the rule (`version`). */
export interface RuleIssue {
  readonly field: string;
  readonly message: string;
}

/** One entry of the strategy table. */
export interface StrategyDefinition {
  readonly name: Strategy;
  /** Rule options that only this strategy reads; other strategies refuse them. */
  readonly options: readonly (keyof Rule)[];
  /**
   * True when the rule caches the new image: the planner then validates all of it before any rule
   * function runs, as a cached value must be (the other strategies validate only what they read).
   */
  cachesNewImage?(rule: Rule): boolean;
  /** True for strategies whose rules have no `key` (they name tags instead). */
  readonly keyless?: boolean;
  /** Checks at handler creation (cold start), beyond the option schema. */
  check(rule: Rule, environment: StrategyEnvironment): RuleIssue[];
  /** The commands for one rule and one change, in the order they must run. */
  plan(input: RuleChange): AnyCacheCommand[];
}
