import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import memjs from 'memjs';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { memcachedAdapter, memcachedKey } from '../../src/adapters/memcached/index.js';
import { type MemcachedPool, memcachedTtl, startMemcachedPool } from '../helpers/memcached-servers.js';
import { event, insert, modify, remove } from '../helpers/records.js';

const rules: Rule[] = [
  { table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through', ttlSeconds: 300 },
  { table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user-by-email:${String(i['email'])}`, strategy: 'invalidate' },
];

let pool: MemcachedPool;
let adapter: CacheAdapter;
let run = 0;
const id = (name: string) => `${process.pid}-${++run}-${name}`;
const homeOf = (key: string) => memjs.Utils.hashCode(memcachedKey(key)) % 3;

beforeAll(async () => {
  // A small item size limit (2 KiB) so a too-large item is cheap to build.
  pool = await startMemcachedPool(3, { maxItemSize: 2048 });
  adapter = memcachedAdapter({ servers: pool.servers, timeoutMs: 500, connectTimeoutMs: 500 });
});
afterAll(async () => {
  await adapter?.close();
  await pool?.stop();
});

describe('createStreamHandler with memcachedAdapter', () => {
  it('turns records into the right cache state across three servers', async () => {
    const ann = { pk: id('ann'), type: 'User', email: `${id('ann')}@example.com`, name: 'Ann' };
    const zoe = { pk: id('zoe'), type: 'User', email: `${id('zoe')}@example.com`, name: 'Zoë Smith 🍰' };
    const gone = { pk: id('gone'), type: 'User', email: `${id('gone')}@example.com`, name: 'Gone' };
    await adapter.execute([
      { kind: 'set', key: `user-by-email:${ann.email}`, value: 'stale' },
      { kind: 'set', key: `user:${gone.pk}`, value: 'stale' },
    ]);
    const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });

    const response = await handler(event(insert(ann), modify(ann, { ...ann, name: 'Ann B', email: `b-${ann.email}` }), insert(zoe), remove(gone)));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(JSON.parse((await adapter.get(`user:${ann.pk}`)) ?? 'null')).toMatchObject({ name: 'Ann B' });
    expect(await adapter.get(`user-by-email:${ann.email}`)).toBeUndefined();
    expect(JSON.parse((await adapter.get(`user:${zoe.pk}`)) ?? 'null')).toMatchObject({ name: 'Zoë Smith 🍰' });
    expect(await adapter.get(`user:${gone.pk}`)).toBeUndefined();
    const home = pool.nodes[homeOf(`user:${ann.pk}`)];
    const ttl = home === undefined ? undefined : await memcachedTtl(home.address, memcachedKey(`user:${ann.pk}`));
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it('reports the earliest record whose key is on a stopped server, and a replay from it repairs the cache', async () => {
    const down = 2;
    const users = Array.from({ length: 12 }, (_, i) => ({ pk: id(`u${i}`), type: 'User', email: `${id(`u${i}`)}@x.example`, name: `n${i}` }));
    const records = users.map((user) => insert(user));
    const firstOnDown = users.findIndex((user) => homeOf(`user:${user.pk}`) === down || homeOf(`user-by-email:${user.email}`) === down);
    expect(firstOnDown).toBeGreaterThanOrEqual(0);
    const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });

    await pool.nodes[down]?.stop();
    let response: Awaited<ReturnType<typeof handler>>;
    try {
      response = await handler(event(...records));
    } finally {
      await pool.nodes[down]?.start();
    }
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[firstOnDown]?.dynamodb?.SequenceNumber }]);

    // Lambda retries from the reported record.
    expect(await handler(event(...records.slice(firstOnDown)))).toEqual({ batchItemFailures: [] });
    for (const user of users) {
      expect(JSON.parse((await adapter.get(`user:${user.pk}`)) ?? 'null')).toMatchObject({ name: user.name });
    }
  });

  it('reports a record whose item is over the item size limit, leaving no stale value behind', async () => {
    const big = { pk: id('big'), type: 'User', email: `${id('big')}@example.com`, name: 'x'.repeat(4000) };
    const small = { pk: id('small'), type: 'User', email: `${id('small')}@example.com`, name: 'small' };
    await adapter.execute([{ kind: 'set', key: `user:${big.pk}`, value: 'stale' }]);
    const records = [insert(small), insert(big)];
    const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });
    const response = await handler(event(...records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.dynamodb?.SequenceNumber }]);
    expect(await adapter.get(`user:${big.pk}`)).toBeUndefined();
    expect(JSON.parse((await adapter.get(`user:${small.pk}`)) ?? 'null')).toMatchObject({ name: 'small' });
  });
});
