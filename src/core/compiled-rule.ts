/**
 * Rules with their defaults resolved, once per handler.
 *
 * @module
 */
import { resolveCodec } from './codecs.js';
import type { Codec, Rule } from './rules.js';
import { STRATEGIES } from './strategies/index.js';

/** A rule with its defaults resolved, compiled once per handler. */
export interface CompiledRule {
  readonly name: string;
  readonly rule: Rule;
  readonly codec: Codec;
  readonly matchesTable: (table: string | undefined) => boolean;
  /** The strategy caches the new image, so the planner validates all of it before any rule function runs. */
  readonly cachesNewImage: boolean;
}

function tableMatcher(table: Rule['table']): (name: string | undefined) => boolean {
  if (table === undefined) return () => true;
  if (typeof table === 'string') return (name) => name === table;
  return (name) => {
    if (name === undefined) return false;
    table.lastIndex = 0; // a /g or /y pattern keeps state between calls
    return table.test(name);
  };
}

/** Resolve names, codecs and table matchers once (at handler creation). */
export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  return rules.map((rule, i) => ({
    name: rule.name ?? `rules[${i}]`,
    rule,
    codec: resolveCodec(rule.codec),
    matchesTable: tableMatcher(rule.table),
    cachesNewImage: STRATEGIES[rule.strategy]?.cachesNewImage?.(rule) === true,
  }));
}

/** True when `rules` came from {@link compileRules}. */
export function isCompiled(rules: readonly Rule[] | readonly CompiledRule[]): rules is readonly CompiledRule[] {
  const first = rules[0];
  return first !== undefined && 'matchesTable' in first;
}
