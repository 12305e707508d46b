import { DynamoDBClient, GetItemCommand, PutItemCommand, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, NumberValue, PutCommand, UpdateCommand, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import type { DeserializeMiddleware } from '@smithy/types';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { localClientConfig } from '../../src/local/dynamodb-local.js';
import type { StreamRunner } from '../../src/local/stream-runner.js';
import { createReadThroughPlugin, READ_THROUGH_WIRE_MIDDLEWARE, type ReadThroughPlugin } from '../../src/sdk/index.js';
import type { DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';
import { readThroughRules, type ReadThroughStack, startReadThroughStack, SUITES, type SuiteName } from '../helpers/read-through-stack.js';
import { startCountingProxy } from '../helpers/memcached-servers.js';
import type { RedisServer } from '../helpers/redis-servers.js';

process.env['DDB_LOCAL_TELEMETRY'] = '0';

let ddb: DynamoDbLocalHarness;
let redis: RedisServer;
let memcached: ReadThroughStack['memcached'];
let runner: StreamRunner;
let stack: ReadThroughStack | undefined;
const closers: (() => Promise<void>)[] = [];
const TABLE = 'Docs';
const WRAP: TranslateConfig = { unmarshallOptions: { wrapNumbers: true } };
const adapters = new Map<SuiteName, CacheAdapter>();
const rulesFor = (name: SuiteName): Rule[] => readThroughRules(TABLE, name);

beforeAll(async () => {
  stack = await startReadThroughStack(TABLE);
  ({ ddb, redis, memcached, runner } = stack);
  for (const [name, adapter] of stack.adapters) adapters.set(name, adapter);
}, 60_000);
afterAll(async () => {
  for (const close of closers) await close();
  await stack?.stop();
});

/** A document client on a fresh low-level client, with the plugin when given one. */
function documentClient(plugin: ReadThroughPlugin | undefined, translate: TranslateConfig = WRAP) {
  const client = new DynamoDBClient(localClientConfig(ddb.endpoint));
  if (plugin !== undefined) client.middlewareStack.use(plugin);
  closers.push(async () => client.destroy());
  return { client, doc: DynamoDBDocumentClient.from(client, translate) };
}

const RICH = {
  big: new NumberValue('12345678901234567890123456789012345678'),
  tiny: new NumberValue('-0.000000000000000000000000000000000000123'),
  small: 42,
  tags: new Set(['a', 'b', 'c']),
  scores: new Set([new NumberValue('1'), new NumberValue('99999999999999999999.5')]),
  avatar: new Uint8Array([0, 159, 146, 150, 255]),
  blobs: new Set([new Uint8Array([0, 1]), new Uint8Array([255])]),
  nested: { list: ['x', null, false, new Uint8Array([7])] },
  name: 'Ada',
};

function suite(name: SuiteName) {
  describe(`createReadThroughPlugin under DynamoDBDocumentClient with ${name} and DynamoDB Local`, () => {
    let plugin: ReadThroughPlugin;
    let doc: DynamoDBDocumentClient;
    let table: DynamoDBDocumentClient;

    beforeAll(() => {
      plugin = createReadThroughPlugin({ adapter: adapters.get(name) as CacheAdapter, rules: rulesFor(name), logger: false, metrics: false });
      ({ doc } = documentClient(plugin));
      ({ doc: table } = documentClient(undefined));
    });

    const idle = () => runner.waitForIdle();
    const id = (kind: 'user' | 'order', n: string) => `${name}/${kind}#${n}`;
    const get = (pk: string, extra: Partial<ConstructorParameters<typeof GetCommand>[0]> = {}) =>
      doc.send(new GetCommand({ TableName: TABLE, Key: { pk }, ...extra }));
    const tableGet = async (pk: string) => (await table.send(new GetCommand({ TableName: TABLE, Key: { pk }, ConsistentRead: true }))).Item;
    const counted = async <T>(work: () => Promise<T>) => {
      plugin.flushMetrics();
      const result = await work();
      return { result, stats: plugin.stats() };
    };

    it("answers a GetCommand the stream wrote from the cache, unmarshalled with the caller's options (wrapNumbers, sets, binary)", async () => {
      await table.send(new PutCommand({ TableName: TABLE, Item: { pk: id('user', 'u1'), ...RICH } }));
      await idle();

      const { result, stats } = await counted(() => get(id('user', 'u1')));

      expect(stats).toMatchObject({ ReadHits: 1, ReadMisses: 0, ReadPassThroughs: 0 });
      expect(result.Item).toEqual(await tableGet(id('user', 'u1')));
      expect(result.Item?.['big']).toEqual(new NumberValue('12345678901234567890123456789012345678'));
      expect(result.Item?.['tags']).toEqual(new Set(['a', 'b', 'c']));
      expect(result.Item?.['avatar']).toBeInstanceOf(Uint8Array);
    });

    it('unmarshalls with the default options on a document client without wrapNumbers', async () => {
      await table.send(new PutCommand({ TableName: TABLE, Item: { pk: id('user', 'plain'), n: 7, name: 'Bo', on: true } }));
      await idle();
      const { doc: plainDoc } = documentClient(plugin, {});
      plugin.flushMetrics();

      const { Item } = await plainDoc.send(new GetCommand({ TableName: TABLE, Key: { pk: id('user', 'plain') } }));

      expect(plugin.stats().ReadHits).toBe(1);
      expect(Item).toEqual({ pk: id('user', 'plain'), n: 7, name: 'Bo', on: true });
    });

    it('answers a top-level projection from the cached item', async () => {
      const { result, stats } = await counted(() => get(id('user', 'u1'), { ProjectionExpression: '#n, big', ExpressionAttributeNames: { '#n': 'name' } }));
      expect(stats.ReadHits).toBe(1);
      expect(result.Item).toEqual({ name: 'Ada', big: new NumberValue('12345678901234567890123456789012345678') });
    });

    it('fills a miss under a lease, then answers from the cache with the same item', async () => {
      await table.send(new PutCommand({ TableName: TABLE, Item: { pk: id('order', 'o1'), ...RICH } }));
      await idle(); // the versioned rule leaves a tombstone: readers fill

      const first = await counted(() => get(id('order', 'o1')));
      await plugin.settle();
      const second = await counted(() => get(id('order', 'o1')));

      expect(first.stats).toMatchObject({ ReadHits: 0, ReadMisses: 1 });
      expect(second.stats).toMatchObject({ ReadHits: 1, ReadMisses: 0 });
      const item = await tableGet(id('order', 'o1'));
      expect(first.result.Item).toEqual(item);
      expect(second.result.Item).toEqual(item);
    });

    it('serves the newer item once an update went through the stream', async () => {
      await table.send(new PutCommand({ TableName: TABLE, Item: { pk: id('order', 'o2'), n: 1 } }));
      await idle();
      await get(id('order', 'o2'));
      await plugin.settle();
      expect((await counted(() => get(id('order', 'o2')))).stats.ReadHits).toBe(1);

      await table.send(
        new UpdateCommand({ TableName: TABLE, Key: { pk: id('order', 'o2') }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 2 } }),
      );
      await idle();
      const after = await counted(() => get(id('order', 'o2')));

      expect(after.result.Item).toEqual({ pk: id('order', 'o2'), n: new NumberValue('2') });
      expect(after.stats).toMatchObject({ ReadHits: 0, ReadMisses: 1 });
    });

    it('passes ConsistentRead, nested projections and tables without rules through to the table', async () => {
      const { result, stats } = await counted(async () => [
        await get(id('user', 'u1'), { ConsistentRead: true }),
        await get(id('user', 'u1'), { ProjectionExpression: 'nested.#l[0]', ExpressionAttributeNames: { '#l': 'list' } }),
        await doc.send(new GetCommand({ TableName: 'NoSuchTable', Key: { pk: 'x' } })).catch((error: unknown) => error),
      ]);
      expect(stats).toMatchObject({ ReadHits: 0, ReadMisses: 0, ReadPassThroughs: 3 });
      expect(result[0]).toMatchObject({ Item: await tableGet(id('user', 'u1')) });
      expect(result[1]).toMatchObject({ Item: { nested: { list: ['x'] } } });
      expect(result[2]).toMatchObject({ name: 'ResourceNotFoundException' });
    });

    it("raises DynamoDB's own error for a covered read the table refuses, and gives the lease back", async () => {
      const rules: Rule[] = [
        { table: 'Missing', key: (item) => `missing:${String(item['pk'])}`, strategy: 'versioned', version: 'sequenceNumber', codec: 'dynamodb' },
      ];
      const adapter = adapters.get(name) as CacheAdapter;
      const { doc: missing } = documentClient(createReadThroughPlugin({ adapter, rules, logger: false, metrics: false }));

      const error = await missing.send(new GetCommand({ TableName: 'Missing', Key: { pk: id('user', 'x') } })).catch((e: unknown) => e);

      expect(error).toMatchObject({ name: 'ResourceNotFoundException' });
      expect(await adapter.get(`missing:${id('user', 'x')}`)).toBeUndefined();
    });

    it('passes "not found" through uncached', async () => {
      const { result, stats } = await counted(() => get(id('user', 'nobody')));
      await plugin.settle();
      expect(result.Item).toBeUndefined();
      expect(stats.ReadMisses).toBe(1);
      expect(await adapters.get(name)?.get(`user:${id('user', 'nobody')}`)).toBeUndefined();
    });
  });
}

for (const name of SUITES) suite(name);

/** Requests a cache adapter sends, counted by a proxy in front of the server. */
interface CallCounter {
  readonly adapter: CacheAdapter;
  reset(): Promise<void>;
  calls(): Promise<number>;
}

/**
 * A loopback proxy in front of the Redis server that counts the commands clients send (RESP
 * arrays), so commands a Lua script runs inside the server are not counted: only round trips.
 */
async function redisCounter(): Promise<CallCounter> {
  let commands = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: redis.port });
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = completeCommand(pending);
        if (end === undefined) break;
        commands++;
        pending = pending.subarray(end);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const adapter = redisAdapter({ url: `redis://127.0.0.1:${port}` });
  closers.push(async () => {
    await adapter.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  let base = 0;
  return {
    adapter,
    reset: async () => void (base = commands),
    calls: async () => commands - base,
  };
}

/** The end of the first complete RESP command (an array of bulk strings) in `bytes`, if any. */
function completeCommand(bytes: Buffer): number | undefined {
  const line = (from: number) => {
    const end = bytes.indexOf('\r\n', from);
    return end < 0 ? undefined : { text: bytes.toString('latin1', from, end), next: end + 2 };
  };
  const header = line(0);
  if (header === undefined) return undefined;
  let at = header.next;
  for (let n = Number(header.text.slice(1)); n > 0; n--) {
    const bulk = line(at);
    if (bulk === undefined) return undefined;
    at = bulk.next + Number(bulk.text.slice(1)) + 2;
    if (at > bytes.length) return undefined;
  }
  return at;
}

async function memcachedCounter(): Promise<CallCounter> {
  const proxy = await startCountingProxy(memcached.node);
  const adapter = memcachedAdapter({ servers: proxy.address });
  closers.push(async () => {
    await adapter.close();
    await proxy.close();
  });
  let base = 0;
  return {
    adapter,
    reset: async () => void (base = proxy.stats.requests),
    calls: async () => proxy.stats.requests - base,
  };
}

describe('createReadThroughPlugin round trips (counted by a proxy in front of the cache server)', () => {
  // Each case: the calls on a hit, the calls made by the time DynamoDB answers a miss, and all
  // calls of the miss once its background fill is done.
  for (const [name, makeCounter, expected] of [
    ['redis', redisCounter, { hit: 1, missBeforeTable: 1, missTotal: 2 }],
    // memjs cannot pipeline: the lease is a `gets` then an `add`, the fill a `gets` then a `cas`.
    ['memcached', memcachedCounter, { hit: 1, missBeforeTable: 2, missTotal: 4 }],
  ] as const) {
    for (const client of ['DynamoDBClient', 'DynamoDBDocumentClient'] as const) {
      it(`${name} through ${client}: one call on a hit, ${expected.missBeforeTable} before GetItem on a miss, the fill after the answer`, async () => {
        const counter = await makeCounter();
        const suiteName: SuiteName = name;
        const plugin = createReadThroughPlugin({ adapter: counter.adapter, rules: rulesFor(suiteName), logger: false, metrics: false });
        const { client: low, doc } = documentClient(plugin);
        // Counts the cache calls at the moment DynamoDB's answer arrives, below the plugin.
        let atTableAnswer: number | undefined;
        const probe: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
          const result = await next(args);
          atTableAnswer = await counter.calls();
          return result;
        };
        low.middlewareStack.addRelativeTo(probe, { relation: 'after', toMiddleware: READ_THROUGH_WIRE_MIDDLEWARE, name: 'probe' });
        const pk = `${suiteName}/order#rt-${client}`;
        await low.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk }, n: { N: '1' } } }));
        await runner.waitForIdle();
        await counter.adapter.get('warm-up'); // connect (and load scripts) before counting
        const read = () =>
          client === 'DynamoDBClient'
            ? low.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } } }))
            : doc.send(new GetCommand({ TableName: TABLE, Key: { pk } }));
        await read(); // loads scripts on first use
        await plugin.settle();
        await counter.adapter.execute([{ kind: 'delete', key: `order:${pk}` }]);

        await counter.reset();
        await read();
        const missBeforeTable = atTableAnswer;
        await plugin.settle();
        const missTotal = await counter.calls();

        atTableAnswer = undefined;
        await counter.reset();
        await read();
        const hit = await counter.calls();

        expect({ hit, missBeforeTable, missTotal }).toEqual(expected);
        expect(atTableAnswer).toBeUndefined(); // the hit never reached DynamoDB
      });
    }
  }
});
