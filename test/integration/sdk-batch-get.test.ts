import {
  BatchGetItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  type AttributeValue,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  type KeysAndAttributes,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
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
let runner: StreamRunner;
let stack: ReadThroughStack | undefined;
const closers: (() => Promise<void>)[] = [];
/** The table the rules cover (streamed into the cache). */
const TABLE = 'App';
/** A table no rule matches: its keys always go to the table. */
const PLAIN = 'Plain';
const adapters = new Map<SuiteName, CacheAdapter>();
const rulesFor = (name: SuiteName): Rule[] => readThroughRules(TABLE, name);

beforeAll(async () => {
  stack = await startReadThroughStack(TABLE, {
    beforeRunner: async (db) => {
      // The rule-less table has no stream and exists before the runner starts.
      await db.client.send(
        new CreateTableCommand({
          TableName: PLAIN,
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
  });
  ({ ddb, redis, memcached, runner } = stack);
  for (const [name, adapter] of stack.adapters) adapters.set(name, adapter);
}, 60_000);
afterAll(async () => {
  for (const close of closers) await close();
  await stack?.stop();
});

/** Sets come back in no defined order; everything else must match exactly. */
function canonical(item: Record<string, AttributeValue>): unknown {
  const value = (av: AttributeValue): unknown => {
    if (av.SS) return { SS: [...av.SS].sort() };
    if (av.NS) return { NS: [...av.NS].sort() };
    if (av.BS) return { BS: av.BS.map((b) => Buffer.from(b).toString('hex')).sort() };
    if (av.M) return { M: canonical(av.M) };
    if (av.L) return { L: av.L.map(value) };
    if (av.B) return { B: Buffer.from(av.B).toString('hex') };
    return av;
  };
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, value(v)]));
}

/** BatchGetItem answers each table's items in no defined order: compare them sorted. */
function responses(output: BatchGetItemCommandOutput): Record<string, unknown[]> {
  return Object.fromEntries(
    Object.entries(output.Responses ?? {}).map(([table, items]) => [table, items.map((item) => JSON.stringify(canonical(item))).sort()]),
  );
}

const RICH: Record<string, AttributeValue> = {
  big: { N: '12345678901234567890123456789012345678' },
  tags: { SS: ['a', 'b', 'c'] },
  scores: { NS: ['1', '99999999999999999999.5'] },
  blobs: { BS: [new Uint8Array([0, 1]), new Uint8Array([255])] },
  avatar: { B: new Uint8Array([0, 159, 146, 150, 255]) },
  nested: { M: { list: { L: [{ S: 'x' }, { NULL: true }, { BOOL: false }] } } },
  name: { S: 'Ada' },
};

function suite(name: SuiteName, outage: { cut: () => unknown; restore: () => unknown }) {
  describe(`BatchGetItem through createReadThroughPlugin with ${name} and DynamoDB Local`, () => {
    let adapter: CacheAdapter;
    let plugin: ReadThroughPlugin;
    let client: DynamoDBClient;
    /** What the table was asked, one entry per BatchGetItem that reached it. */
    let asked: BatchGetItemCommandInput[] = [];
    /** Rewrites the table's answer (to play DynamoDB leaving keys unprocessed). */
    let rewrite: ((output: BatchGetItemCommandOutput) => BatchGetItemCommandOutput) | undefined;
    /** Holds a BatchGetItem after the table answered and before the plugin sees the answer. */
    let gate: { reached: () => void; release: Promise<void> } | undefined;

    const id = (kind: 'user' | 'order', n: string) => `${name}/${kind}#${n}`;
    const key = (pk: string) => ({ pk: { S: pk } });
    const plainKey = (n: string) => ({ id: { S: `${name}/${n}` } });
    const put = (pk: string, extra: Record<string, AttributeValue> = RICH) =>
      ddb.client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key(pk), ...extra } }));

    const withPlugin = (options: { negativeTtlSeconds?: number } = {}) => {
      const p = createReadThroughPlugin({ adapter, rules: rulesFor(name), logger: false, metrics: false, ...options });
      const c = new DynamoDBClient(localClientConfig(ddb.endpoint));
      c.middlewareStack.use(p);
      const watch: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
        asked.push(structuredClone(args.input as BatchGetItemCommandInput));
        const result = await next(args);
        const held = gate;
        if (held !== undefined) {
          gate = undefined;
          held.reached();
          await held.release;
        }
        const change = rewrite;
        return change === undefined ? result : { ...result, output: change(result.output as BatchGetItemCommandOutput) };
      };
      // Same step as the plugin, below it: sees what the plugin sends on, and the parsed answer.
      c.middlewareStack.add(watch, { step: 'initialize', priority: 'low', name: 'testWatch' });
      closers.push(async () => c.destroy());
      return { plugin: p, client: c };
    };

    beforeAll(() => {
      adapter = adapters.get(name) as CacheAdapter;
      ({ plugin, client } = withPlugin());
    });

    const batch = async (
      requestItems: Record<string, KeysAndAttributes>,
      through: { plugin: ReadThroughPlugin; client: DynamoDBClient } = { plugin, client },
    ) => {
      through.plugin.flushMetrics();
      asked = [];
      const result = await through.client.send(new BatchGetItemCommand({ RequestItems: requestItems }));
      return { result, stats: through.plugin.stats(), asked };
    };
    const raw = (requestItems: Record<string, KeysAndAttributes>) => ddb.client.send(new BatchGetItemCommand({ RequestItems: requestItems }));

    it('serves the covered keys from the cache and asks the table only for the rest, across tables, with exact items', async () => {
      await put(id('user', 'u1'));
      await put(id('user', 'u2'), { ...RICH, name: { S: 'Bob' } });
      await ddb.client.send(new PutItemCommand({ TableName: PLAIN, Item: { ...plainKey('p1'), n: { N: '1.50' } } }));
      await runner.waitForIdle();
      const request = {
        [TABLE]: { Keys: [key(id('user', 'u1')), key(id('user', 'u2')), key(id('user', 'nobody'))] },
        [PLAIN]: { Keys: [plainKey('p1')] },
      };

      const { result, stats, asked: sent } = await batch(request);

      expect(stats).toMatchObject({ ReadHits: 2, ReadMisses: 1, ReadPassThroughs: 1, ReadFallbacks: 0 });
      expect(sent).toEqual([{ RequestItems: { [TABLE]: { Keys: [key(id('user', 'nobody'))] }, [PLAIN]: { Keys: [plainKey('p1')] } } }]);
      expect(responses(result)).toEqual(responses(await raw(request)));
      expect(result.UnprocessedKeys).toEqual({});
      const u1 = result.Responses?.[TABLE]?.find((item) => item['pk']?.S === id('user', 'u1'));
      expect(u1?.['avatar']?.B).toBeInstanceOf(Uint8Array);
      // "Not found" without negativeTtlSeconds: the lease was given back, nothing cached.
      expect(await adapter.get(`user:${id('user', 'nobody')}`)).toBeUndefined();
    });

    it('does not call the table when the cache answers every key', async () => {
      const request = { [TABLE]: { Keys: [key(id('user', 'u1')), key(id('user', 'u2'))] } };
      const { result, stats, asked: sent } = await batch(request);
      expect(stats).toMatchObject({ ReadHits: 2, ReadMisses: 0 });
      expect(sent).toEqual([]);
      expect(responses(result)).toEqual(responses(await raw(request)));
      expect(result.UnprocessedKeys).toEqual({});
    });

    it('fills misses under leases from the table’s answer, so the next batch is served from the cache', async () => {
      await put(id('order', 'o1'));
      await put(id('order', 'o2'), { n: { N: '2' } });
      await runner.waitForIdle(); // the versioned rule leaves tombstones: readers fill
      const request = { [TABLE]: { Keys: [key(id('order', 'o1')), key(id('order', 'o2'))] } };

      const first = await batch(request);
      const second = await batch(request);

      expect(first.stats).toMatchObject({ ReadHits: 0, ReadMisses: 2 });
      expect(second.stats).toMatchObject({ ReadHits: 2, ReadMisses: 0 });
      expect(second.asked).toEqual([]);
      const table = responses(await raw(request));
      expect(responses(first.result)).toEqual(table);
      expect(responses(second.result)).toEqual(table);
    });

    it('answers a top-level projection from the cache; a filling miss asks the table for the whole item', async () => {
      await put(id('order', 'o3'));
      await runner.waitForIdle();
      const request = {
        [TABLE]: { Keys: [key(id('order', 'o3')), key(id('user', 'u1'))], ProjectionExpression: '#n, big', ExpressionAttributeNames: { '#n': 'name' } },
      };

      const first = await batch(request);
      const second = await batch(request);

      expect(first.stats).toMatchObject({ ReadHits: 1, ReadMisses: 1 });
      expect(first.asked).toEqual([{ RequestItems: { [TABLE]: { Keys: [key(id('order', 'o3'))] } } }]);
      expect(second.stats).toMatchObject({ ReadHits: 2, ReadMisses: 0 });
      const table = responses(await raw(request));
      expect(responses(first.result)).toEqual(table);
      expect(responses(second.result)).toEqual(table);
      expect(second.result.Responses?.[TABLE]?.[0]).toEqual({ name: { S: 'Ada' }, big: { N: '12345678901234567890123456789012345678' } });
    });

    it('passes ConsistentRead and nested projections through to the table untouched', async () => {
      const consistent = { [TABLE]: { Keys: [key(id('user', 'u1'))], ConsistentRead: true } };
      const nested = { [TABLE]: { Keys: [key(id('user', 'u1'))], ProjectionExpression: 'nested.#l[0]', ExpressionAttributeNames: { '#l': 'list' } } };

      const a = await batch(consistent);
      const b = await batch(nested);

      expect(a.stats).toMatchObject({ ReadHits: 0, ReadMisses: 0, ReadPassThroughs: 1 });
      expect(a.asked).toEqual([{ RequestItems: consistent }]);
      expect(b.asked).toEqual([{ RequestItems: nested }]);
      expect(b.result.Responses?.[TABLE]).toEqual([{ nested: { M: { list: { L: [{ S: 'x' }] } } } }]);
    });

    it('never fills an item a slow BatchGetItem read before a newer stream write', async () => {
      await put(id('order', 'o6'), { n: { N: '1' } });
      await runner.waitForIdle();
      let release = () => {};
      const reached = new Promise<void>((resolve) => {
        gate = { reached: resolve, release: new Promise<void>((r) => (release = r)) };
      });
      const request = { [TABLE]: { Keys: [key(id('order', 'o6'))] } };

      const slow = batch(request); // reads n = 1 under a lease, then is held before it can fill
      await reached;
      await put(id('order', 'o6'), { n: { N: '2' } });
      await runner.waitForIdle(); // the stream's tombstone for n = 2 voids the slow batch's lease
      release();

      expect((await slow).result.Responses?.[TABLE]?.[0]?.['n']).toEqual({ N: '1' });
      const after = await batch(request);
      expect(after.result.Responses?.[TABLE]?.[0]?.['n']).toEqual({ N: '2' });
      expect(after.stats.ReadMisses).toBe(1); // the late fill was refused, so this batch went to the table
    });

    it('hands the table’s UnprocessedKeys back in the caller’s shape and fills none of them', async () => {
      await put(id('order', 'o4'));
      await put(id('order', 'o5'));
      await runner.waitForIdle();
      const left = key(id('order', 'o4'));
      // DynamoDB leaves part of a batch unprocessed under throttling or the 16 MB limit: play that.
      rewrite = (output) => ({
        ...output,
        Responses: { [TABLE]: (output.Responses?.[TABLE] ?? []).filter((item) => item['pk']?.S !== left.pk.S) },
        UnprocessedKeys: { [TABLE]: { Keys: [left] } },
      });
      const request = {
        [TABLE]: { Keys: [left, key(id('order', 'o5')), key(id('user', 'u2'))], ProjectionExpression: 'pk, #n', ExpressionAttributeNames: { '#n': 'name' } },
      };
      let result: BatchGetItemCommandOutput;
      try {
        ({ result } = await batch(request));
      } finally {
        rewrite = undefined;
      }

      expect(result.UnprocessedKeys).toEqual({ [TABLE]: { Keys: [left], ProjectionExpression: 'pk, #n', ExpressionAttributeNames: { '#n': 'name' } } });
      expect(result.Responses?.[TABLE]?.map((item) => item['pk']?.S).sort()).toEqual([id('order', 'o5'), id('user', 'u2')].sort());
      // The unprocessed key's lease was given back: the stream's tombstone is there again, not a value.
      const stored = await adapter.get(`order:${id('order', 'o4')}`);
      expect(stored === undefined ? 'absent' : decodeEnvelope(stored).kind).toBe('tombstone');
      const retry = await batch({ [TABLE]: { Keys: [left], ProjectionExpression: 'pk, #n', ExpressionAttributeNames: { '#n': 'name' } } });
      expect(retry.stats).toMatchObject({ ReadHits: 0, ReadMisses: 1 });
      expect(retry.result.Responses?.[TABLE]).toEqual([{ pk: left.pk, name: { S: 'Ada' } }]);
    });

    it('with negativeTtlSeconds, caches "not found" under the lease and answers it from the cache next time', async () => {
      const negative = withPlugin({ negativeTtlSeconds: 60 });
      const request = { [TABLE]: { Keys: [key(id('user', 'ghost')), key(id('user', 'u1'))] } };

      const first = await batch(request, negative);
      const second = await batch(request, negative);

      expect(first.stats).toMatchObject({ ReadHits: 1, ReadMisses: 1 });
      expect(second.stats).toMatchObject({ ReadHits: 2, ReadMisses: 0 });
      expect(second.asked).toEqual([]);
      expect(responses(second.result)).toEqual(responses(await raw(request)));
    });

    it('sends the whole request to the table when the cache is down, counted and never thrown', async () => {
      const request = { [TABLE]: { Keys: [key(id('user', 'u1')), key(id('user', 'u2'))] }, [PLAIN]: { Keys: [plainKey('p1')] } };
      await outage.cut();
      let run: Awaited<ReturnType<typeof batch>>;
      try {
        run = await batch(request);
      } finally {
        await outage.restore();
      }
      expect(run.stats).toMatchObject({ ReadHits: 0, ReadMisses: 2, ReadFallbacks: 2, ReadPassThroughs: 1 });
      expect(run.asked).toEqual([{ RequestItems: request }]);
      expect(responses(run.result)).toEqual(responses(await raw(request)));
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
