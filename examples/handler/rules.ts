/**
 * The example's cache rules, shared by the Valkey/Redis handler (`index.ts`) and the Memcached
 * handler (`memcached.ts`). Replace them with your entities.
 *
 * @module
 */
import type { Rule } from 'ddb-cache-sync';

/**
 * The cache rules for `User` items in a single-table design
 * (`{ pk: 'USER#42', sk: 'PROFILE', type: 'User', id: '42', email, name, ... }`):
 * - `user:<id>` holds the public fields of the user (write-through: readers never miss after
 *   a write, and a TTL bounds the damage of any bug);
 * - `user-by-email:<email>` is a lookup readers fill themselves; every change to the user
 *   deletes it for the old and the new email (invalidate).
 *
 * @example
 * ```ts
 * createStreamHandler({ adapter, rules: userRules('App') });
 * ```
 */
export function userRules(table: string): Rule[] {
  const isUser = (item: Record<string, unknown>): boolean => item['type'] === 'User';
  return [
    {
      name: 'user-by-id',
      table,
      when: isUser,
      key: (item) => {
        // A User without an id is a data bug: throwing fails the record (retried, then sent
        // to the failure queue) instead of caching it under a wrong key.
        if (typeof item['id'] !== 'string' || item['id'] === '') throw new Error('User item has no string "id"');
        return `user:${item['id']}`;
      },
      strategy: 'write-through',
      // Only what readers need: never copy secrets (password hashes, tokens) into the cache.
      attributes: ['id', 'email', 'name'],
      ttlSeconds: 3600,
    },
    {
      name: 'user-by-email',
      table,
      when: isUser,
      // Email is optional: a user without one owns no lookup key.
      key: (item) => (typeof item['email'] === 'string' ? [`user-by-email:${item['email']}`] : []),
      strategy: 'invalidate',
    },
  ];
}
