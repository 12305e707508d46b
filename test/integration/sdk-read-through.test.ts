import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-dynamodb';
import type { DeserializeMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { localClientConfig } from '../../src/local/dynamodb-local.js';
import type { StreamRunner } from '../../src/local/stream-runner.js';
import { createReadThroughPlugin, type ReadThroughPlugin } from '../../src/sdk/index.js';
import type { DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';
import { readThroughRules, type ReadThroughStack, startReadThroughStack, type SuiteName } from '../helpers/read-through-stack.js';
import type { RedisServer } from '../helpers/redis-servers.js';

process.env['DDB_LOCAL_TELEMETRY'] = '0';

let ddb: DynamoDbLocalHarness;
let redis: RedisServer;
let memcached: ReadThroughStack['memcached'];
const runners: StreamRunner[] = [];
let stack: ReadThroughStack | undefined;
const closers: (() => Promise<void>)[] = [];
const TABLE = 'App';
const adapters = new Map<SuiteName, CacheAdapter>();
/** The shared users/orders rules, plus a `value` transform on users that the plugin must not serve. */
const rulesFor = (name: SuiteName): Rule[] => {
  const [users, ...rest] = readThroughRules(TABLE, name);
  const summary: Rule = {
    name: 'user-summary',
    table: TABLE,
    when: (item) => String(item['pk']).startsWith(`${name}/user#`),
    key: (item) => `summary:${String(item['pk'])}`,
    strategy: 'write-through',
    value: (item) => item['name'] ?? null,
  };
  return users === undefined ? [summary, ...rest] : [users, summary, ...rest];
};

beforeAll(async () => {
  stack = await startReadThroughStack(TABLE, { rulesFor });
  runners.push(stack.runner);
  ({ ddb, redis, memcached } = stack);
  for (const [name, adapter] of stack.adapters) adapters.set(name, adapter);
}, 60_000);
afterAll(async () => {
  for (const close of closers) await close();
  await stack?.stop();
});

/** Sets come back in no defined order; everything else must match exactly. */
function canonical(item: Record<string, AttributeValue> | undefined): unknown {
  if (item === undefined) return undefined;
  const value = (av: AttributeValue): unknown => {
    if (av.SS) return { SS: [...av.SS].sort() };
    if (av.NS) return { NS: [...av.NS].sort() };
    if (av.BS) return { BS: av.BS.map((b) => Buffer.from(b).toString('hex')).sort() };
    if (av.M) return { M: canonical(av.M) };
    if (av.L) return { L: av.L.map(value) };
    return av;
  };
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, value(v)]));
}

const RICH: Record<string, AttributeValue> = {
  big: { N: '12345678901234567890123456789012345678' },
  tiny: { N: '-0.000000000000000000000000000000000000123' },
  tags: { SS: ['a', 'b', 'c'] },
  scores: { NS: ['1', '99999999999999999999.5'] },
  blobs: { BS: [new Uint8Array([0, 1]), new Uint8Array([255])] },
  avatar: { B: new Uint8Array([0, 159, 146, 150, 255]) },
  nested: { M: { list: { L: [{ S: 'x' }, { NULL: true }, { BOOL: false }, { B: new Uint8Array([7]) }] } } },
  name: { S: 'Ada' },
};

function suite(name: SuiteName, outage: { cut: () => unknown; restore: () => unknown }) {
  describe(`createReadThroughPlugin with ${name} and DynamoDB Local`, () => {
    const users = TABLE;
    const orders = TABLE;
    let adapter: CacheAdapter;
    let plugin: ReadThroughPlugin;
    let client: DynamoDBClient;
    // Holds a GetItem after DynamoDB answered it and before the plugin sees the answer.
    let gate: { reached: () => void; release: Promise<void> } | undefined;

    beforeAll(() => {
      adapter = adapters.get(name) as CacheAdapter;
      plugin = createReadThroughPlugin({ adapter, rules: rulesFor(name), logger: false, metrics: false });
      client = new DynamoDBClient(localClientConfig(ddb.endpoint));
      client.middlewareStack.use(plugin);
      const hold: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
        const result = await next(args);
        const held = gate;
        if (held !== undefined) {
          gate = undefined;
          held.reached();
          await held.release;
        }
        return result;
      };
      client.middlewareStack.add(hold, { step: 'deserialize', name: 'testGate' });
      closers.push(async () => client.destroy());
    });

    const idle = () => Promise.all(runners.map((r) => r.waitForIdle()));
    const id = (kind: 'user' | 'order', n: string) => `${name}/${kind}#${n}`;
    const get = (table: string, pk: string, extra: Partial<ConstructorParameters<typeof GetItemCommand>[0]> = {}) =>
      client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk } }, ...extra }));
    const rawGet = (table: string, pk: string) => ddb.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk } } }));
    const counted = async <T>(work: () => Promise<T>) => {
      plugin.flushMetrics();
      const result = await work();
      return { result, stats: plugin.stats() };
    };

    it('answers a GetItem the stream wrote from the cache, with exactly the item GetItem returns (big numbers, sets, binary)', async () => {
      await ddb.client.send(new PutItemCommand({ TableName: users, Item: { pk: { S: id('user', 'u1') }, ...RICH } }));
      await idle();

      const { result, stats } = await counted(() => get(users, id('user', 'u1')));

      expect(stats).toMatchObject({ ReadHits: 1, ReadMisses: 0, ReadPassThroughs: 0 });
      expect(canonical(result.Item)).toEqual(canonical((await rawGet(users, id('user', 'u1'))).Item));
      expect(result.Item?.['avatar']?.B).toBeInstanceOf(Uint8Array);
    });

    it('answers a top-level ProjectionExpression from the cached item', async () => {
      const { result, stats } = await counted(() =>
        get(users, id('user', 'u1'), { ProjectionExpression: '#n, big', ExpressionAttributeNames: { '#n': 'name' } }),
      );
      expect(stats.ReadHits).toBe(1);
      expect(result.Item).toEqual({ name: { S: 'Ada' }, big: { N: '12345678901234567890123456789012345678' } });
    });

    it('passes ConsistentRead and nested projections through to the table', async () => {
      const { result, stats } = await counted(async () => [
        await get(users, id('user', 'u1'), { ConsistentRead: true }),
        await get(users, id('user', 'u1'), { ProjectionExpression: 'nested.#l[0]', ExpressionAttributeNames: { '#l': 'list' } }),
      ]);
      expect(stats).toMatchObject({ ReadHits: 0, ReadPassThroughs: 2 });
      expect(result[0]?.$metadata.httpStatusCode).toBe(200);
      expect(result[1]?.Item).toEqual({ nested: { M: { list: { L: [{ S: 'x' }] } } } });
    });

    it('fills a miss under a lease, then answers from the cache with the same exact item', async () => {
      await ddb.client.send(new PutItemCommand({ TableName: orders, Item: { pk: { S: id('order', 'o1') }, ...RICH } }));
      await idle(); // the versioned rule leaves a tombstone: readers fill

      const first = await counted(() => get(orders, id('order', 'o1')));
      await plugin.settle(); // the fill runs after the answer (awaitFill: false)
      const second = await counted(() => get(orders, id('order', 'o1')));

      expect(first.stats).toMatchObject({ ReadHits: 0, ReadMisses: 1 });
      expect(second.stats).toMatchObject({ ReadHits: 1, ReadMisses: 0 });
      const table = canonical((await rawGet(orders, id('order', 'o1'))).Item);
      expect(canonical(first.result.Item)).toEqual(table);
      expect(canonical(second.result.Item)).toEqual(table);
    });

    it('never fills an item a slow GetItem read before a newer stream write', async () => {
      await ddb.client.send(new PutItemCommand({ TableName: orders, Item: { pk: { S: id('order', 'o2') }, n: { N: '1' } } }));
      await idle();
      let release = () => {};
      const reached = new Promise<void>((resolve) => {
        gate = { reached: resolve, release: new Promise<void>((r) => (release = r)) };
      });

      const slow = get(orders, id('order', 'o2')); // reads n = 1, then is held before it can fill
      await reached;
      await ddb.client.send(
        new UpdateItemCommand({
          TableName: orders,
          Key: { pk: { S: id('order', 'o2') } },
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': { N: '2' } },
        }),
      );
      await idle(); // the stream's tombstone for n = 2 voids the slow reader's lease
      release();

      expect((await slow).Item?.['n']).toEqual({ N: '1' });
      const after = await counted(() => get(orders, id('order', 'o2')));
      expect(after.result.Item?.['n']).toEqual({ N: '2' });
      expect(after.stats.ReadMisses).toBe(1); // the late fill was refused, so this read went to the table
    });

    it('passes "not found" through and leaves nothing cached', async () => {
      const { result, stats } = await counted(() => get(users, id('user', 'nobody')));
      expect(result.Item).toBeUndefined();
      expect(stats.ReadMisses).toBe(1);
      await plugin.settle(); // the lease is given back after the answer
      expect(await adapter.get(`user:${id('user', 'nobody')}`)).toBeUndefined();
    });

    it('with negativeTtlSeconds, caches "not found" under the lease, and the INSERT voids it', async () => {
      const negative = createReadThroughPlugin({ adapter, rules: rulesFor(name), negativeTtlSeconds: 60, logger: false, metrics: false });
      const negClient = new DynamoDBClient(localClientConfig(ddb.endpoint));
      negClient.middlewareStack.use(negative);
      closers.push(async () => negClient.destroy());
      const pk = id('user', 'ghost');
      const read = async () => {
        negative.flushMetrics();
        const result = await negClient.send(new GetItemCommand({ TableName: users, Key: { pk: { S: pk } } }));
        return { result, stats: negative.stats() };
      };

      const first = await read();
      expect(first.result.Item).toBeUndefined();
      expect(first.stats).toMatchObject({ ReadMisses: 1, ReadHits: 0 });
      await negative.settle();
      const second = await read(); // answered by the cached "not found": no table read
      expect(second.result.Item).toBeUndefined();
      expect(second.stats).toMatchObject({ ReadMisses: 0, ReadHits: 1 });

      await ddb.client.send(new PutItemCommand({ TableName: users, Item: { pk: { S: pk }, name: { S: 'Ghost' } } }));
      await idle();
      const third = await read();
      expect(third.result.Item?.['name']).toEqual({ S: 'Ghost' });
    });

    it('serves from the table when the cache is down, counted and never thrown', async () => {
      await outage.cut();
      try {
        const { result, stats } = await counted(() => get(users, id('user', 'u1')));
        expect(canonical(result.Item)).toEqual(canonical((await rawGet(users, id('user', 'u1'))).Item));
        expect(stats.ReadFallbacks).toBeGreaterThanOrEqual(1);
        expect(stats.ReadHits).toBe(0);
      } finally {
        await outage.restore();
      }
    });
  });
}

suite('redis', {
  cut: () => redis.cli('CLIENT', 'PAUSE', '2000', 'ALL'),
  restore: () => redis.cli('CLIENT', 'UNPAUSE'),
});
suite('memcached', {
  cut: () => memcached.node.pause(),
  restore: () => memcached.node.resume(),
});
