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
    // Most records own one key on each side, the same one: skip the Set and spread then.
    const keys =
      newKeys.length === 0
        ? oldKeys
        : oldKeys.length === 0 || (oldKeys.length === 1 && newKeys.length === 1 && oldKeys[0] === newKeys[0])
          ? newKeys
          : [...oldKeys, ...newKeys];
    return (keys.length === 1 ? keys : [...new Set(keys)]).map((key) => ({ kind: 'delete', key }));
  },
};
