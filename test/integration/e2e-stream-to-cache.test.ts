/**
 * End to end: DynamoDB Local -> its stream -> the local runner (Lambda's event source mapping
 * semantics) -> the real handler -> a real cache (memory, redis-server, memcached). After a mixed
 * workload the cache must match the table for every key the rules cover.
 */
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRules, USER_ATTRIBUTES } from '../../examples/demo/rules.js';
import { createStreamHandler, memoryAdapter, type CacheAdapter, type Rule } from '../../src/index.js';
import { createStreamRunner, type FailedBatch, type StreamRunner } from '../../src/local/stream-runner.js';
import { toLambdaImage } from '../../src/local/normalize.js';
import { startDynamoDb, type DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';
import { prng } from '../helpers/prng.js';

type Item = Record<string, unknown>;

const rules: Rule[] = [
  ...demoRules,
  {
    name: 'order-by-id',
    table: 'App',
    when: (item) => item['type'] === 'Order',
    key: (item) => `order:${String(item['pk'])}`,
    strategy: 'write-through',
    // Lossless: binary, sets and exact numbers survive.
    codec: 'dynamodb',
  },
];

const PLANS = ['free', 'pro', 'team'] as const;

interface Harness {
  readonly adapter: CacheAdapter;
  readonly stop: () => Promise<void>;
}

/** The adapters to run against; Redis and Memcached load only when their servers start. */
const backends: { name: string; start: () => Promise<Harness> }[] = [
  {
    name: 'memory',
    start: async () => ({ adapter: memoryAdapter(), stop: async () => {} }),
  },
  {
    name: 'redis',
    start: async () => {
      const { startRedis } = await import('../helpers/redis-servers.js');
      const { redisAdapter } = await import('../../src/adapters/redis/index.js');
      const server = await startRedis();
      const adapter = redisAdapter({ url: server.url });
      return { adapter, stop: () => server.stop() };
    },
  },
  {
    name: 'memcached (two servers)',
    start: async () => {
      const { startMemcachedPool } = await import('../helpers/memcached-servers.js');
      const { memcachedAdapter } = await import('../../src/adapters/memcached/index.js');
      const pool = await startMemcachedPool(2);
      const adapter = memcachedAdapter({ servers: pool.servers });
      return { adapter, stop: () => pool.stop() };
    },
  },
];

// One DynamoDB Local for the file (a JVM start costs seconds); each backend gets a fresh table.
let ddb: DynamoDbLocalHarness;
beforeAll(async () => {
  ddb = await startDynamoDb();
});
afterAll(async () => {
  await ddb?.stop();
});

describe.each(backends)('DynamoDB Local -> stream runner -> handler -> $name cache', ({ start }) => {
  let cache: Harness;
  let runner: StreamRunner;
  const failures: FailedBatch[] = [];
  /** What the table should hold, kept alongside every write (to know old values). */
  const shadow = new Map<string, Item>();
  const everPk = new Set<string>();
  /** Invalidate keys a reader cached after the initial load, with the value cached. */
  const primed = new Map<string, string>();
  /** Emails and plans that appeared on a User image of any change after priming. */
  const touchedEmails = new Set<string>();
  const touchedPlans = new Set<string>();
  let primingDone = false;
  /** Keys of REMOVE records that arrived marked as Time to Live deletes. */
  const ttlRemoves = new Set<string>();
  let rev = 0;

  beforeAll(async () => {
    cache = await start();
    const streamArn = await ddb.createTable({ name: 'App' });
    // DynamoDB Local runs Time to Live deletes within seconds, so the workload includes some.
    await ddb.client.send(new UpdateTimeToLiveCommand({ TableName: 'App', TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }));
    const handler = createStreamHandler({ adapter: cache.adapter, rules, logger: false, metrics: false });
    runner = createStreamRunner({
      endpoint: ddb.endpoint,
      streamArn,
      handler: (event) => {
        for (const record of event.Records) {
          const identity = record.userIdentity as { principalId?: string } | undefined;
          if (record.eventName === 'REMOVE' && identity?.principalId === 'dynamodb.amazonaws.com') {
            ttlRemoves.add(String(record.dynamodb?.Keys?.['pk']?.S));
          }
        }
        return handler(event);
      },
      pollIntervalMs: 20,
      retryDelayMs: 10,
      maximumRetryAttempts: 3,
      onFailure: (failure) => void failures.push(failure),
    });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await cache?.adapter.close();
    await cache?.stop();
    await ddb?.client.send(new DeleteTableCommand({ TableName: 'App' }));
  });

  /** Note what a change does to the invalidate keys, then record the new state. */
  function track(pk: string, next: Item | undefined): void {
    everPk.add(pk);
    if (primingDone) {
      for (const image of [shadow.get(pk), next]) {
        if (image?.['type'] !== 'User') continue;
        if (typeof image['email'] === 'string') touchedEmails.add(image['email']);
        if (typeof image['plan'] === 'string') touchedPlans.add(image['plan']);
      }
    }
    if (next === undefined) shadow.delete(pk);
    else shadow.set(pk, next);
  }

  const newUser = (pk: string, random: () => number): Item => ({
    pk,
    type: 'User',
    name: `Name ${pk}`,
    email: `${pk}.${++rev}@example.com`,
    plan: PLANS[Math.floor(random() * PLANS.length)],
    passwordHash: `secret-${pk}`,
    rev,
    ...(random() < 0.3 ? { avatar: new Uint8Array([rev % 256, 0, 255]) } : {}),
  });

  const newOrder = (pk: string, random: () => number): Item => ({
    pk,
    type: 'Order',
    total: Number((random() * 1000).toFixed(2)),
    tags: new Set(['a', `t${rev}`]),
    blob: new Uint8Array([1, 2, rev % 256]),
    lines: [{ sku: `sku-${rev}`, qty: 1 + Math.floor(random() * 5), image: new Uint8Array([9, 9]) }],
    rev: ++rev,
  });

  async function putItem(item: Item): Promise<void> {
    const pk = String(item['pk']);
    await ddb.client.send(new PutItemCommand({ TableName: 'App', Item: marshall(item) }));
    track(pk, item);
  }

  async function update(pk: string, changes: Item): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const version = ++rev; // other writes run concurrently: keep this write's own number
    const sets = Object.entries({ ...changes, rev: version }).map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:v${i}`] = marshall({ v: value })['v'] as AttributeValue;
      return `#a${i} = :v${i}`;
    });
    await ddb.client.send(
      new UpdateItemCommand({
        TableName: 'App',
        Key: marshall({ pk }),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    track(pk, { ...(shadow.get(pk) ?? { pk }), ...changes, rev: version });
  }

  async function remove(pk: string): Promise<void> {
    await ddb.client.send(new DeleteItemCommand({ TableName: 'App', Key: marshall({ pk }) }));
    track(pk, undefined);
  }

  it('keeps every covered key equal to the table after a mixed workload', async () => {
    const random = prng(20261127);
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    const orders = Array.from({ length: 10 }, (_, i) => `o${i}`);

    // Initial load (BatchWriteItem, 25 at a time), then readers fill the lookup and list caches.
    // Two users are already expired: DynamoDB Local's Time to Live job deletes them during the
    // run (it pauses seconds between deletes, so more would only slow the test). Their plan 'trial' and their emails are never cached by a reader,
    // so the moment of the delete does not matter to the expected cache.
    const expiring = ['t0', 't1'];
    const expiredAt = Math.floor(Date.now() / 1000) - 3600;
    const initial: Item[] = [
      ...expiring.map((pk) => ({ ...newUser(pk, random), plan: 'trial', expiresAt: expiredAt })),
      ...users.map((pk) => newUser(pk, random)),
      ...orders.map((pk) => newOrder(pk, random)),
    ];
    for (let i = 0; i < initial.length; i += 25) {
      const chunk = initial.slice(i, i + 25);
      const out = await ddb.client.send(new BatchWriteItemCommand({ RequestItems: { App: chunk.map((item) => ({ PutRequest: { Item: marshall(item) } })) } }));
      expect(out.UnprocessedItems?.['App'] ?? []).toEqual([]);
      for (const item of chunk) track(String(item['pk']), item);
    }
    await runner.waitForIdle();
    const fills = [...shadow.values()]
      .filter((item) => item['type'] === 'User' && item['plan'] !== 'trial')
      .flatMap((item) => [
        [`user-by-email:${String(item['email'])}`, JSON.stringify(item['pk'])],
        [`users:plan:${String(item['plan'])}`, '["cached list"]'],
      ]);
    for (const [key, value] of fills) primed.set(key as string, value as string);
    const results = await cache.adapter.execute([...primed].map(([key, value]) => ({ kind: 'set', key, value, ttlSeconds: 600 })));
    expect(results.every((r) => r.ok)).toBe(true);
    primingDone = true;

    // Mixed single-item writes, including changes of the attributes the rules key on. Eight at
    // a time on distinct keys: per-key order is what the stream guarantees and what matters.
    const one = async (pk: string, pick: number): Promise<void> => {
      const current = shadow.get(pk);
      if (current === undefined) {
        await putItem(newUser(pk, random)); // re-create a deleted user
      } else if (pick < 0.25) {
        await update(pk, { email: `${pk}.${rev + 1}@example.com` }); // key attribute change
      } else if (pick < 0.45) {
        await update(pk, { plan: PLANS[Math.floor(random() * PLANS.length)] });
      } else if (pick < 0.6) {
        await update(pk, { name: `Renamed ${rev}` });
      } else if (pick < 0.7) {
        // Leaves (or re-enters) the rules' scope: the write-through key must go (or come back).
        await update(pk, { type: current['type'] === 'User' ? 'Archived' : 'User' });
      } else if (pick < 0.85) {
        await remove(pk);
      } else {
        await putItem(newUser(pk, random)); // overwrite with a new email and plan
      }
    };
    const oneOrder = async (pk: string): Promise<void> => {
      if (shadow.has(pk) && random() < 0.3) await remove(pk);
      else await putItem(newOrder(pk, random));
    };
    // Users u30..u39 are left alone, so some cached lookups must survive untouched.
    const busy = users.slice(0, 30);
    for (let group = 0; group < 15; group++) {
      const picked = new Set<string>();
      while (picked.size < 7) picked.add(busy[Math.floor(random() * busy.length)] as string);
      const order = orders[group % orders.length] as string;
      await Promise.all([...[...picked].map((pk) => one(pk, random())), oneOrder(order)]);
    }

    // BatchWriteItem: 25 distinct keys, puts and deletes mixed.
    const batchKeys = [...users.slice(0, 15), ...Array.from({ length: 10 }, (_, i) => `n${i}`)];
    const requests: WriteRequest[] = [];
    const applied: (() => void)[] = [];
    for (const pk of batchKeys) {
      if (shadow.has(pk) && random() < 0.4) {
        requests.push({ DeleteRequest: { Key: marshall({ pk }) } });
        applied.push(() => track(pk, undefined));
      } else {
        const item = newUser(pk, random);
        requests.push({ PutRequest: { Item: marshall(item) } });
        applied.push(() => track(pk, item));
      }
    }
    const batch = await ddb.client.send(new BatchWriteItemCommand({ RequestItems: { App: requests } }));
    expect(batch.UnprocessedItems?.['App'] ?? []).toEqual([]);
    for (const apply of applied) apply();

    // Wait for the Time to Live deletes (usually done by now).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const left = await Promise.all(expiring.map((pk) => ddb.client.send(new GetItemCommand({ TableName: 'App', Key: marshall({ pk }) }))));
      if (left.every((out) => out.Item === undefined)) break;
      if (Date.now() > deadline) throw new Error('DynamoDB Local did not run the Time to Live deletes within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    for (const pk of expiring) track(pk, undefined);

    await runner.waitForIdle({ timeoutMs: 60_000 });
    expect(failures).toEqual([]);
    expect([...ttlRemoves].sort()).toEqual(expiring);

    // The table is the truth: scan it and check the model agrees before using the model.
    const scanned = new Map<string, Record<string, AttributeValue>>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await ddb.client.send(new ScanCommand({ TableName: 'App', ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) scanned.set(String(unmarshall(item)['pk']), item);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    expect([...scanned.keys()].sort()).toEqual([...shadow.keys()].sort());

    const mismatches: string[] = [];
    const check = async (key: string, expected: unknown, decode: (stored: string) => unknown) => {
      const stored = await cache.adapter.get(key);
      const actual = stored === undefined ? undefined : decode(stored);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        mismatches.push(`${key}: expected ${JSON.stringify(expected)}, cache has ${JSON.stringify(actual)}`);
      }
    };

    let present = 0;
    for (const pk of everPk) {
      const raw = scanned.get(pk);
      const item = raw === undefined ? undefined : unmarshall(raw);
      // user:<pk> holds the projection of a current User, else nothing.
      const projection = item?.['type'] === 'User' ? Object.fromEntries(USER_ATTRIBUTES.filter((a) => a in item).map((a) => [a, item[a]])) : undefined;
      await check(`user:${pk}`, sortKeys(projection), (s) => sortKeys(JSON.parse(s)));
      // order:<pk> holds the lossless image of a current Order, else nothing.
      const image = raw !== undefined && item?.['type'] === 'Order' ? toLambdaImage(raw) : undefined;
      await check(`order:${pk}`, canonicalImage(image), (s) => canonicalImage(JSON.parse(s)));
      if (projection !== undefined || image !== undefined) present++;
    }
    // Invalidate keys: gone if any change touched them after the reader cached them.
    for (const [key, value] of primed) {
      const [, what = ''] = /^[^:]+(?::plan)?:(.*)$/.exec(key) ?? [];
      const touched = key.startsWith('users:plan:') ? touchedPlans.has(what) : touchedEmails.has(what);
      await check(key, touched ? undefined : value, (s) => s);
    }
    // Keys for emails that only ever appeared in changes are never written by an invalidate rule.
    for (const email of touchedEmails) {
      if (!primed.has(`user-by-email:${email}`)) await check(`user-by-email:${email}`, undefined, (s) => s);
    }

    expect(mismatches).toEqual([]);
    // The workload really exercised what it claims to.
    expect(present).toBeGreaterThan(20);
    expect(touchedEmails.size).toBeGreaterThan(40);
    expect(
      [...primed.keys()].some((key) => primed.has(key) && !touchedEmails.has(key.slice('user-by-email:'.length)) && key.startsWith('user-by-email:')),
    ).toBe(true);
    expect(runner.stats.recordsDelivered).toBeGreaterThan(150);
    expect(runner.stats.failedBatches).toBe(0);
  }, 120_000);
});

/** JSON with object keys in a fixed order, so comparison ignores attribute order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** An AttributeValue image with set members sorted (sets have no order) and keys sorted. */
function canonicalImage(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalImage);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = (key === 'SS' || key === 'NS' || key === 'BS') && Array.isArray(inner) ? [...inner].sort() : canonicalImage(inner);
  }
  return sortKeys(out);
}
