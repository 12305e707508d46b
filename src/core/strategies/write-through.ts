/**
 * `write-through`: set the new image's keys to the encoded value, delete keys the old image
 * owned that the new one does not, delete on REMOVE. Needs records in order.
 *
 * @module
 */
import type { AnyCacheCommand } from '../commands.js';
import { fail, viewHint } from '../failure.js';
import { encodeValue, ruleKeys } from '../rule-eval.js';
import type { StrategyDefinition } from './types.js';

export const writeThrough: StrategyDefinition = {
  name: 'write-through',
  options: [],
  cachesNewImage: () => true,
  check(_rule, { source }) {
    if (source.ordered) return [];
    return [
      {
        field: 'strategy',
        message: `write-through is unsafe with ${source.label}, whose records can arrive out of order and twice (an older image would overwrite a newer one); use strategy 'versioned' with version: { attribute: '...' }, or 'invalidate'`,
      },
    ];
  },
  plan({ compiled, change, newSide, oldKeys, newMatches }) {
    const { rule } = compiled;
    if (!newSide || !newMatches) return [...new Set(oldKeys)].map((key) => ({ kind: 'delete', key }));
    if (newSide.keysOnly) fail(`write-through needs the new item, but ${viewHint(change.view, 'new')}`, 'dynamodb.NewImage');
    const newKeys = [...new Set(ruleKeys(compiled, newSide, change.view))];
    const value = encodeValue(compiled, newSide);
    const commands: AnyCacheCommand[] = [];
    const owned = new Set(newKeys);
    // Keys the old image owned and the new one does not (e.g. a changed email) must go.
    for (const key of new Set(oldKeys)) if (!owned.has(key)) commands.push({ kind: 'delete', key });
    for (const key of newKeys) {
      commands.push(rule.ttlSeconds === undefined ? { kind: 'set', key, value } : { kind: 'set', key, value, ttlSeconds: rule.ttlSeconds });
    }
    return commands;
  },
};
