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

/** Most rules give a record one key or a few: below this, a linear scan beats building a Set. */
const SMALL = 8;

/**
 * `keys` without repeats, in first-seen order: `keys` itself when it has none. Every record of
 * a write-through batch comes here, usually with one key, where a Set and a copy were garbage.
 */
function distinct(keys: readonly string[]): readonly string[] {
  if (keys.length > SMALL) return [...new Set(keys)];
  for (let i = 1; i < keys.length; i++) {
    if (keys.lastIndexOf(keys[i] as string, i - 1) >= 0) return [...new Set(keys)];
  }
  return keys;
}

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
    if (!newSide || !newMatches) return distinct(oldKeys).map((key) => ({ kind: 'delete', key }));
    if (newSide.keysOnly) fail(`write-through needs the new item, but ${viewHint(change.view, 'new')}`, 'dynamodb.NewImage');
    const newKeys = distinct(ruleKeys(compiled, newSide, change.view));
    const value = encodeValue(compiled, newSide);
    const commands: AnyCacheCommand[] = [];
    // Keys the old image owned and the new one does not (e.g. a changed email) must go.
    if (oldKeys.length > 0) {
      const owned = newKeys.length > SMALL ? new Set(newKeys) : undefined;
      for (const key of distinct(oldKeys)) if (!(owned?.has(key) ?? newKeys.includes(key))) commands.push({ kind: 'delete', key });
    }
    for (const key of newKeys) {
      commands.push(rule.ttlSeconds === undefined ? { kind: 'set', key, value } : { kind: 'set', key, value, ttlSeconds: rule.ttlSeconds });
    }
    return commands;
  },
};
