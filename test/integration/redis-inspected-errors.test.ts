/**
 * What `console.log(error)` prints for errors the Redis adapter reports: `util.inspect` shows
 * every own property of an error and of its causes. ioredis attaches the command an error reply
 * answered (`command: { name, args }`), whose args hold the AUTH password or the cached value;
 * the adapter must hand out none of it. A control shows ioredis's own errors do carry them.
 */
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import type { CommandResult } from '../../src/core/commands.js';
import { type RedisServer, startRedis } from '../helpers/redis-servers.js';

const PASSWORD = 'app-pass-5d1c0e';
const WRONG = 'wrong-pass-8b2f47';
/** Item data: what a rule caches, e.g. a user's email or a token. */
const VALUE = '{"email":"private-person@example.com","token":"tok-3a9e71"}';
const SECRETS = [PASSWORD, WRONG, VALUE, 'private-person@example.com', 'tok-3a9e71'];

const printed = (value: unknown) => inspect(value, { depth: 10 });

function expectClean(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

function errorsOf(results: readonly CommandResult[]): unknown[] {
  return results.flatMap((result) => (result.ok ? [] : [result.error]));
}

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis({
    password: PASSWORD,
    // May touch only allowed:*, so every write elsewhere is refused with NOPERM.
    aclUsers: [{ name: 'app', password: PASSWORD, rules: ['~allowed:*', '+@all'] }],
  });
});
afterAll(async () => {
  await server?.stop();
});

describe('errors the Redis adapter reports print no password and no item data', () => {
  it('control: ioredis errors carry the command arguments', async () => {
    const client = new Redis({ port: server.port, host: server.host, username: 'app', password: PASSWORD, lazyConnect: true });
    try {
      const replies = await client.pipeline().set('denied:k', VALUE).exec();
      expect(printed(replies?.[0]?.[0])).toContain(VALUE);
    } finally {
      client.disconnect();
    }
  });

  it('a refused AUTH (wrong password, default and named user)', async () => {
    for (const user of ['default', 'app']) {
      const adapter = redisAdapter({ url: `redis://${user}:${WRONG}@${server.host}:${server.port}` });
      try {
        const errors = errorsOf(await adapter.execute([{ kind: 'set', key: 'allowed:k', value: VALUE }]));
        expect(errors).toHaveLength(1);
        expect(printed(errors)).toMatch(/WRONGPASS/); // the reason is kept...
        expectClean(printed(errors)); // ...the password is not
        expectClean(printed(await adapter.get('allowed:k').catch((error: unknown) => error)));
      } finally {
        await adapter.close();
      }
    }
  });

  it('a refused SET, plain and versioned, in a batch', async () => {
    const adapter = redisAdapter({ url: `redis://app:${PASSWORD}@${server.host}:${server.port}` });
    try {
      const results = await adapter.execute([
        { kind: 'set', key: 'denied:a', value: VALUE, ttlSeconds: 60 },
        { kind: 'set', key: 'allowed:b', value: VALUE },
        { kind: 'set-versioned', key: 'denied:c', value: VALUE, version: '7', ttlSeconds: 60 },
        { kind: 'delete-versioned', key: 'denied:d', version: '8', tombstoneTtlSeconds: 60 },
      ]);
      expect(results[1]).toEqual({ ok: true });
      const errors = errorsOf(results);
      expect(errors).toHaveLength(3);
      expect(printed(errors)).toMatch(/NOPERM/);
      expectClean(printed(errors));
    } finally {
      await adapter.close();
    }
  });

  it('a refused lease and fill (thrown)', async () => {
    const adapter = redisAdapter({ url: `redis://app:${PASSWORD}@${server.host}:${server.port}` });
    try {
      const lease = await adapter.lease('denied:l', 'token-1', 1_000).catch((error: unknown) => error);
      const fill = await adapter.fill('denied:l', 'token-1', VALUE, { ttlSeconds: 60 }).catch((error: unknown) => error);
      for (const error of [lease, fill]) {
        expect(error).toBeInstanceOf(Error);
        expect(printed(error)).toMatch(/NOPERM/);
        expectClean(printed(error));
      }
    } finally {
      await adapter.close();
    }
  });
});
