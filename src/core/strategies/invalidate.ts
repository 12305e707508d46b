/**
 * `invalidate`: delete every key the change touches, old image and new. Deletes commute, so
 * this is safe with any source, in any order.
 *
 * @module
 */
import { ruleKeys } from '../rule-eval.js';
import type { StrategyDefinition } from './types.js';

export const invalidate: StrategyDefinition = {
  name: 'invalidate',
  options: [],
  check: () => [],
  plan({ compiled, change, newSide, oldKeys, newMatches }) {
    const newKeys = newSide && newMatches ? ruleKeys(compiled, newSide, change.view) : [];
    return [...new Set([...oldKeys, ...newKeys])].map((key) => ({ kind: 'delete', key }));
  },
};
