/**
 * The demo's cache rules, for a single-table design where users live in table `App` with
 * `pk` as the user id and `type: 'User'`. The end-to-end tests use the same rules.
 */
import type { Rule } from 'ddb-cache-sync';

/** Attributes readers may see. `passwordHash` stays out of the cache. */
export const USER_ATTRIBUTES = ['pk', 'type', 'name', 'email', 'plan'] as const;

const isUser = (item: Record<string, unknown>) => item['type'] === 'User';

export const demoRules: Rule[] = [
  {
    name: 'user-by-id',
    table: 'App',
    when: isUser,
    key: (item) => `user:${String(item['pk'])}`,
    // Readers get the fresh user straight from the cache after every write.
    strategy: 'write-through',
    ttlSeconds: 300,
    attributes: [...USER_ATTRIBUTES],
  },
  {
    name: 'user-by-email',
    table: 'App',
    when: (item) => isUser(item) && typeof item['email'] === 'string',
    key: (item) => `user-by-email:${String(item['email'])}`,
    // Readers fill this lookup on a miss; on any change (also of the email itself, which
    // changes the key) both the old and the new key are deleted.
    strategy: 'invalidate',
  },
  {
    name: 'users-by-plan',
    table: 'App',
    when: (item) => isUser(item) && typeof item['plan'] === 'string',
    key: (item) => `users:plan:${String(item['plan'])}`,
    // A cached list: any user joining, leaving or changing plan invalidates it.
    strategy: 'invalidate',
  },
];
