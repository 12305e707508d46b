import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../../src/core/rules.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { keySlot, redisAdapter } from '../../src/adapters/redis/index.js';
import { adapterAclRules } from '../helpers/redis-acl.js';
import { useClusterWithClient } from '../helpers/redis-fixtures.js';
import { type RedisServer, startRedis } from '../helpers/redis-servers.js';
import { event, insert, modify, remove } from '../helpers/records.js';

const rules: Rule[] = [
  { table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through', ttlSeconds: 300 },
  { table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user-by-email:${String(i['email'])}`, strategy: 'invalidate' },
];

let run = 0;
const id = (name: string) => `${process.pid}-${++run}-${name}`;
const user = (name: string) => ({ pk: id(name), type: 'User', email: `${id(name)}@example.com`, name });
const parsed = (value: string | null | undefined) => (value == null ? undefined : (JSON.parse(value) as Record<string, unknown>));

describe('createStreamHandler with redisAdapter on a standalone server', () => {
  let server: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    server = await startRedis({
      aclUsers: [{ name: 'app', password: 'app-pw', rules: [...adapterAclRules('user:ok-*'), '~user-by-email:*'] }],
    });
    raw = new Redis(server.port, server.host);
  });
  afterAll(async () => {
    raw?.disconnect();
    await server?.stop();
  });

  it('turns records into the right cache state, with the rule’s TTL', async () => {
    const adapter = redisAdapter({ url: server.url });
    try {
      const ann = user('ann');
      const zoe = { ...user('zoe'), name: 'Zoë 🍰' };
      const gone = user('gone');
      await raw.set(`user-by-email:${ann.email}`, 'stale');
      await raw.set(`user:${gone.pk}`, 'stale');
      const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });

      const response = await handler(event(insert(ann), modify(ann, { ...ann, name: 'Ann B', email: `b-${ann.email}` }), insert(zoe), remove(gone)));

      expect(response).toEqual({ batchItemFailures: [] });
      expect(parsed(await raw.get(`user:${ann.pk}`))).toMatchObject({ name: 'Ann B' });
      expect(await raw.exists(`user-by-email:${ann.email}`)).toBe(0);
      expect(parsed(await raw.get(`user:${zoe.pk}`))).toMatchObject({ name: 'Zoë 🍰' });
      expect(await raw.exists(`user:${gone.pk}`)).toBe(0);
      const ttl = await raw.ttl(`user:${ann.pk}`);
      expect(ttl).toBeGreaterThan(290);
      expect(ttl).toBeLessThanOrEqual(300);
    } finally {
      await adapter.close();
    }
  });

  it('reports the earliest record a Redis ACL refused, applies the others, and a replay after the fix repairs it', async () => {
    const adapter = redisAdapter({ url: `redis://app:app-pw@${server.host}:${server.port}` });
    try {
      const users = Array.from({ length: 8 }, (_, i) => ({ ...user(`u${i}`), pk: `${i === 3 || i === 6 ? 'blocked' : 'ok'}-${id(`u${i}`)}` }));
      const records = users.map((u) => insert(u));
      const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });

      const response = await handler(event(...records));

      // Lambda retries from the earliest failed record, so that is the one to report.
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[3]?.dynamodb?.SequenceNumber }]);
      expect(parsed(await raw.get(`user:${users[2]?.pk}`))).toMatchObject({ name: 'u2' });
      expect(await raw.exists(`user:${users[3]?.pk}`)).toBe(0);

      await server.cli('ACL', 'SETUSER', 'app', '~user:*');
      expect(await handler(event(...records.slice(3)))).toEqual({ batchItemFailures: [] });
      for (const u of users) expect(parsed(await raw.get(`user:${u.pk}`))).toMatchObject({ name: u.name });
    } finally {
      await adapter.close();
    }
  });
});

describe('createStreamHandler with redisAdapter on a 3-node cluster', () => {
  const redis = useClusterWithClient();

  it('writes a batch whose keys span every node', async () => {
    const adapter = redisAdapter({ url: redis.cluster.url, cluster: true });
    try {
      const users = Array.from({ length: 60 }, (_, i) => user(`c${i}`));
      const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });
      const owner = await redis.cluster.slotOwners();
      expect(new Set(users.map((u) => owner(keySlot(`user:${u.pk}`)))).size).toBe(3);

      expect(await handler(event(...users.map((u) => insert(u)), remove(users[0] ?? user('x'))))).toEqual({ batchItemFailures: [] });

      expect(await redis.raw.exists(`user:${users[0]?.pk}`)).toBe(0);
      for (const u of users.slice(1)) expect(parsed(await redis.raw.get(`user:${u.pk}`))).toMatchObject({ name: u.name });
    } finally {
      await adapter.close();
    }
  });

  it('reports the first record failed when the cluster is unreachable, without hanging', async () => {
    const adapter = redisAdapter({ url: redis.cluster.url, cluster: true, connectTimeoutMs: 500, commandTimeoutMs: 300 });
    try {
      const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });
      const records = [insert(user('a')), insert(user('b'))];
      expect(await handler(event(...records))).toEqual({ batchItemFailures: [] });
      await redis.cluster.stop();
      const response = await handler(event(...records));
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }]);
    } finally {
      await adapter.close();
    }
  }, 20_000);
});
