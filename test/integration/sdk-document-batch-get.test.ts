import { DynamoDBClient, type BatchGetItemCommandInput, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, NumberValue, PutCommand, type BatchGetCommandInput, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { DeserializeMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
import { localClientConfig } from '../../src/local/dynamodb-local.js';
import type { StreamRunner } from '../../src/local/stream-runner.js';
import { createReadThroughPlugin, READ_THROUGH_WIRE_MIDDLEWARE, type ReadThroughPlugin } from '../../src/sdk/index.js';
import { collectBody, type WireResponse } from '../../src/sdk/wire.js';
import type { DynamoDbLocalHarness } from '../helpers/dynamodb-local.js';
import { readThroughRules, type ReadThroughStack, startReadThroughStack, type SuiteName } from '../helpers/read-through-stack.js';
import type { RedisServer } from '../helpers/redis-servers.js';

process.env['DDB_LOCAL_TELEMETRY'] = '0';

let ddb: DynamoDbLocalHarness;
let redis: RedisServer;
let memcached: ReadThroughStack['memcached'];
let runner: StreamRunner;
let stack: ReadThroughStack | undefined;
const closers: (() => Promise<void>)[] = [];
const TABLE = 'DocBatch';
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

const RICH = {
  big: new NumberValue('12345678901234567890123456789012345678'),
  small: 42,
  tags: new Set(['a', 'b', 'c']),
  avatar: new Uint8Array([0, 159, 146, 150, 255]),
  nested: { list: ['x', null, false, new Uint8Array([7])] },
  name: 'Ada',
};

/** The parsed body of a BatchGetItem response, as the wire carries it. */
interface WireBatch {
  Responses?: Record<string, Record<string, Record<string, unknown>>[]>;
  UnprocessedKeys?: Record<string, { Keys: Record<string, Record<string, unknown>>[] }>;
}

/** Items of one table sorted by `pk`: BatchGetItem answers in no defined order. */
const sorted = (output: BatchGetCommandOutput) => [...(output.Responses?.[TABLE] ?? [])].sort((a, b) => String(a['pk']).localeCompare(String(b['pk'])));

function suite(name: SuiteName, outage: { cut: () => unknown; restore: () => unknown }) {
  describe(`BatchGetCommand through DynamoDBDocumentClient with ${name} and DynamoDB Local`, () => {
    let adapter: CacheAdapter;
    let plugin: ReadThroughPlugin;
    let doc: DynamoDBDocumentClient;
    let table: DynamoDBDocumentClient;
    /** The marshalled BatchGetItems that reached DynamoDB, as sent. */
    let asked: BatchGetItemCommandInput[] = [];
    /** Rewrites the table's response body (to play DynamoDB leaving keys unprocessed). */
    let rewrite: ((body: WireBatch) => WireBatch) | undefined;
    /** Holds a BatchGetItem after the table answered and before the plugin sees the answer. */
    let gate: { reached: () => void; release: Promise<void> } | undefined;

    const id = (kind: 'user' | 'order' | 'other', n: string) => `${name}/${kind}#${n}`;
    const put = (pk: string, extra: Record<string, unknown> = RICH) => table.send(new PutCommand({ TableName: TABLE, Item: { pk, ...extra } }));

    /** A document client over a plugin with `options`, and a probe just above DynamoDB. */
    const withPlugin = (options: { negativeTtlSeconds?: number } = {}) => {
      const p = createReadThroughPlugin({ adapter, rules: rulesFor(name), logger: false, metrics: false, ...options });
      const client = new DynamoDBClient(localClientConfig(ddb.endpoint));
      client.middlewareStack.use(p);
      // Below the plugin's wire middleware: sees exactly the request that goes to DynamoDB, and its raw answer.
      const probe: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
        asked.push(structuredClone(args.input as BatchGetItemCommandInput));
        const result = await next(args);
        const held = gate;
        if (held !== undefined) {
          gate = undefined;
          held.reached();
          await held.release;
        }
        const change = rewrite;
        if (change !== undefined) {
          const response = result.response as WireResponse;
          const body = JSON.parse(Buffer.from(await collectBody(response.body)).toString('utf8')) as WireBatch;
          response.body = new TextEncoder().encode(JSON.stringify(change(body)));
        }
        return result;
      };
      client.middlewareStack.addRelativeTo(probe, { relation: 'after', toMiddleware: READ_THROUGH_WIRE_MIDDLEWARE, name: 'testProbe' });
      closers.push(async () => client.destroy());
      return { plugin: p, doc: DynamoDBDocumentClient.from(client, { unmarshallOptions: { wrapNumbers: true } }) };
    };

    beforeAll(() => {
      adapter = adapters.get(name) as CacheAdapter;
      ({ plugin, doc } = withPlugin());
      const plain = new DynamoDBClient(localClientConfig(ddb.endpoint));
      table = DynamoDBDocumentClient.from(plain, { unmarshallOptions: { wrapNumbers: true } });
      closers.push(async () => plain.destroy());
    });

    const batch = async (
      requestItems: BatchGetCommandInput['RequestItems'],
      through: { plugin: ReadThroughPlugin; doc: DynamoDBDocumentClient } = { plugin, doc },
    ) => {
      through.plugin.flushMetrics();
      asked = [];
      const result = await through.doc.send(new BatchGetCommand({ RequestItems: requestItems }));
      return { result, stats: through.plugin.stats(), asked };
    };
    const raw = (requestItems: BatchGetCommandInput['RequestItems']) => table.send(new BatchGetCommand({ RequestItems: requestItems }));

    it("answers a BatchGetCommand whose keys all hit from the cache, without DynamoDB, unmarshalled with the caller's options", async () => {
      await put(id('user', 'u1'));
      await put(id('user', 'u2'), { ...RICH, name: 'Bob' });
      await runner.waitForIdle();
      const request = { [TABLE]: { Keys: [{ pk: id('user', 'u1') }, { pk: id('user', 'u2') }] } };

      const { result, stats, asked: sent } = await batch(request);

      expect(stats).toMatchObject({ ReadHits: 2, ReadMisses: 0, ReadPassThroughs: 0, ReadFallbacks: 0 });
      expect(sent).toEqual([]);
      expect(result.UnprocessedKeys).toEqual({});
      expect(sorted(result)).toEqual(sorted(await raw(request)));
      const [first] = sorted(result);
      expect(first?.['big']).toEqual(new NumberValue('12345678901234567890123456789012345678'));
      expect(first?.['tags']).toEqual(new Set(['a', 'b', 'c']));
      expect(first?.['avatar']).toBeInstanceOf(Uint8Array);
    });

    it('answers a top-level projection of all-hit keys from the cached items', async () => {
      const request = {
        [TABLE]: { Keys: [{ pk: id('user', 'u1') }, { pk: id('user', 'u2') }], ProjectionExpression: 'pk, #n', ExpressionAttributeNames: { '#n': 'name' } },
      };

      const { result, stats, asked: sent } = await batch(request);

      expect(stats.ReadHits).toBe(2);
      expect(sent).toEqual([]);
      expect(sorted(result)).toEqual([
        { pk: id('user', 'u1'), name: 'Ada' },
        { pk: id('user', 'u2'), name: 'Bob' },
      ]);
    });

    it('sends the whole signed request unchanged on a miss, fills the misses from its answer, then serves them all from the cache', async () => {
      await put(id('order', 'o1'), { n: 1, bin: new Uint8Array([1, 2]) });
      await runner.waitForIdle(); // the versioned rule leaves a tombstone: readers fill
      const request = { [TABLE]: { Keys: [{ pk: id('order', 'o1') }, { pk: id('user', 'u1') }] } };

      const first = await batch(request);
      const second = await batch(request);

      expect(first.stats).toMatchObject({ ReadHits: 0, ReadMisses: 2 });
      expect(first.asked).toEqual([{ RequestItems: { [TABLE]: { Keys: [{ pk: { S: id('order', 'o1') } }, { pk: { S: id('user', 'u1') } }] } } }]);
      expect(second.stats).toMatchObject({ ReadHits: 2, ReadMisses: 0 });
      expect(second.asked).toEqual([]);
      const expected = sorted(await raw(request));
      expect(sorted(first.result)).toEqual(expected);
      expect(sorted(second.result)).toEqual(expected);
    });

    it('never fills a miss of a projected request: it cannot be widened to the whole item', async () => {
      await put(id('order', 'o2'), { n: 1, name: 'Cy' });
      await runner.waitForIdle();
      const request = { [TABLE]: { Keys: [{ pk: id('order', 'o2') }], ProjectionExpression: '#n', ExpressionAttributeNames: { '#n': 'name' } } };

      const first = await batch(request);

      expect(first.stats).toMatchObject({ ReadHits: 0, ReadMisses: 1 });
      expect(first.result.Responses?.[TABLE]).toEqual([{ name: 'Cy' }]);
      const stored = await adapter.get(`order:${id('order', 'o2')}`);
      expect(stored === undefined ? 'absent' : decodeEnvelope(stored).kind).toBe('tombstone');
      expect((await batch(request)).stats).toMatchObject({ ReadHits: 0, ReadMisses: 1 });
    });

    it('passes a request with an uncovered key (or ConsistentRead) through whole, without a cache call', async () => {
      await put(id('other', 'x1'), { n: 5 });
      const mixed = { [TABLE]: { Keys: [{ pk: id('user', 'u1') }, { pk: id('other', 'x1') }] } };
      const consistent = { [TABLE]: { Keys: [{ pk: id('user', 'u1') }], ConsistentRead: true } };

      const a = await batch(mixed);
      const b = await batch(consistent);

      expect(a.stats).toMatchObject({ ReadHits: 0, ReadMisses: 0, ReadPassThroughs: 2 });
      expect(a.asked).toEqual([{ RequestItems: { [TABLE]: { Keys: [{ pk: { S: id('user', 'u1') } }, { pk: { S: id('other', 'x1') } }] } } }]);
      expect(sorted(a.result)).toEqual(sorted(await raw(mixed)));
      expect(b.stats).toMatchObject({ ReadHits: 0, ReadMisses: 0, ReadPassThroughs: 1 });
      expect(b.asked).toHaveLength(1);
    });

    it("hands the table's UnprocessedKeys back to the caller and fills none of them", async () => {
      await put(id('order', 'o3'));
      await put(id('order', 'o4'));
      await runner.waitForIdle();
      const left = { pk: { S: id('order', 'o3') } };
      // DynamoDB leaves part of a batch unprocessed under throttling or the 16 MB limit: play that.
      rewrite = (body) => ({
        Responses: { [TABLE]: (body.Responses?.[TABLE] ?? []).filter((item) => item['pk']?.['S'] !== left.pk.S) },
        UnprocessedKeys: { [TABLE]: { Keys: [left] } },
      });
      const request = { [TABLE]: { Keys: [{ pk: id('order', 'o3') }, { pk: id('order', 'o4') }] } };
      let result: BatchGetCommandOutput;
      try {
        ({ result } = await batch(request));
      } finally {
        rewrite = undefined;
      }

      expect(result.UnprocessedKeys).toEqual({ [TABLE]: { Keys: [{ pk: id('order', 'o3') }] } });
      expect(result.Responses?.[TABLE]?.map((item) => item['pk'])).toEqual([id('order', 'o4')]);
      const stored = await adapter.get(`order:${id('order', 'o3')}`);
      expect(stored === undefined ? 'absent' : decodeEnvelope(stored).kind).toBe('tombstone');
      const filled = await adapter.get(`order:${id('order', 'o4')}`);
      expect(filled === undefined ? 'absent' : decodeEnvelope(filled).kind).not.toBe('tombstone');
      expect(filled).toBeDefined();
    });

    it('never fills an item a slow BatchGetCommand read before a newer stream write', async () => {
      await put(id('order', 'o5'), { n: 1 });
      await runner.waitForIdle();
      let release = () => {};
      const reached = new Promise<void>((resolve) => {
        gate = { reached: resolve, release: new Promise<void>((r) => (release = r)) };
      });
      const request = { [TABLE]: { Keys: [{ pk: id('order', 'o5') }] } };

      const slow = batch(request); // reads n = 1 under a lease, then is held before it can fill
      await reached;
      await put(id('order', 'o5'), { n: 2 });
      await runner.waitForIdle(); // the stream's tombstone for n = 2 voids the slow batch's lease
      release();

      expect((await slow).result.Responses?.[TABLE]?.[0]?.['n']).toEqual(new NumberValue('1'));
      const after = await batch(request);
      expect(after.result.Responses?.[TABLE]?.[0]?.['n']).toEqual(new NumberValue('2'));
      expect(after.stats.ReadMisses).toBe(1); // the late fill was refused, so this batch went to the table
    });

    it('with negativeTtlSeconds, caches "not found" from the table\'s answer and then answers the whole request from the cache', async () => {
      const negative = withPlugin({ negativeTtlSeconds: 60 });
      const request = { [TABLE]: { Keys: [{ pk: id('user', 'ghost') }, { pk: id('user', 'u1') }] } };

      const first = await batch(request, negative);
      const second = await batch(request, negative);

      expect(first.stats).toMatchObject({ ReadHits: 0, ReadMisses: 2 });
      expect(first.asked).toHaveLength(1);
      expect(second.stats).toMatchObject({ ReadHits: 2, ReadMisses: 0 });
      expect(second.asked).toEqual([]);
      expect(sorted(second.result)).toEqual(sorted(await raw(request)));
      expect(second.result.Responses?.[TABLE]?.map((item) => item['pk'])).toEqual([id('user', 'u1')]);
    });

    it('sends the whole request to the table when the cache is down, counted and never thrown', async () => {
      const request = { [TABLE]: { Keys: [{ pk: id('user', 'u1') }, { pk: id('user', 'u2') }] } };
      await outage.cut();
      let run: Awaited<ReturnType<typeof batch>>;
      try {
        run = await batch(request);
      } finally {
        await outage.restore();
      }
      expect(run.stats).toMatchObject({ ReadHits: 0, ReadMisses: 2, ReadFallbacks: 2 });
      expect(run.asked).toHaveLength(1);
      expect(sorted(run.result)).toEqual(sorted(await raw(request)));
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
