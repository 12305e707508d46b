/**
 * Read path through the SDK plugin: a warm GetItem answered by `createReadThroughPlugin` from
 * Redis, next to a raw ioredis GET of the same key and a plain GetItem on DynamoDB Local, all on
 * loopback. Time per sequential call, median of runs.
 *
 * Run: `node bench/run.mjs sdk-read` (options: `--runs 5 --ops 1000`).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { redisAdapter } from '../src/adapters/redis/index.js';
import type { Rule } from '../src/core/rules.js';
import { localClientConfig } from '../src/local/dynamodb-local.js';
import { createReadThroughPlugin } from '../src/sdk/index.js';
import { startDynamoDb } from '../test/helpers/dynamodb-local.js';
import { startRedis } from '../test/helpers/redis-servers.js';
import { fmt, intArg, machineInfo, median, printMachine, printTable, saveResult } from './lib/report.js';

process.env['DDB_LOCAL_TELEMETRY'] = '0';
const runs = intArg('runs', 5);
const ops = intArg('ops', 1_000);
const machine = machineInfo();
printMachine(machine);

const KEYS = 100;
const TABLE = 'Users';
const rules: Rule[] = [{ table: TABLE, key: (item) => `user:${String(item['pk'])}`, strategy: 'write-through', codec: 'dynamodb' }];
const OPS = [
  'raw Redis GET',
  'GetItem through the plugin (warm hit)',
  'GetCommand through DynamoDBDocumentClient + plugin (warm hit)',
  'GetItem on DynamoDB Local',
] as const;
type Op = (typeof OPS)[number];

const [server, ddb] = await Promise.all([startRedis(), startDynamoDb()]);
const times = new Map<Op, number[]>(OPS.map((op) => [op, []]));
try {
  await ddb.createTable({ name: TABLE });
  const pk = (i: number) => `u${i % KEYS}`;
  for (let i = 0; i < KEYS; i++) {
    await ddb.client.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk(i) }, name: { S: 'Ada Lovelace' }, email: { S: 'ada@example.com' }, version: { N: '3' } } }),
    );
  }
  const adapter = redisAdapter({ url: server.url });
  const plugin = createReadThroughPlugin({ adapter, rules, logger: false, metrics: false });
  const cached = new DynamoDBClient(localClientConfig(ddb.endpoint));
  cached.middlewareStack.use(plugin);
  const redis = new Redis(server.port, server.host);
  const get = (client: DynamoDBClient, i: number) => client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk(i) } } }));
  for (let i = 0; i < KEYS; i++) await get(cached, i); // fills every key: the timed reads are warm hits
  await plugin.settle(); // fills run after each answer
  const doc = DynamoDBDocumentClient.from(cached);

  const calls: Record<Op, (i: number) => Promise<unknown>> = {
    'raw Redis GET': (i) => redis.get(`user:${pk(i)}`),
    'GetItem through the plugin (warm hit)': (i) => get(cached, i),
    'GetCommand through DynamoDBDocumentClient + plugin (warm hit)': (i) => doc.send(new GetCommand({ TableName: TABLE, Key: { pk: pk(i) } })),
    'GetItem on DynamoDB Local': (i) => get(ddb.client, i),
  };
  for (let run = -1; run < runs; run++) {
    for (const op of OPS) {
      const start = performance.now();
      for (let i = 0; i < ops; i++) await calls[op](i);
      if (run >= 0) times.get(op)?.push(((performance.now() - start) * 1000) / ops); // run -1 warms up
    }
    if (run >= 0) process.stderr.write(`run ${run + 1}/${runs}\n`);
  }
  const { ReadHits, ReadMisses } = plugin.stats();
  if (ReadMisses !== KEYS || ReadHits !== 2 * (runs + 1) * ops)
    throw new Error(`expected only warm hits after the fill, got ${ReadHits} hits and ${ReadMisses} misses`);
  redis.disconnect();
  cached.destroy();
  await adapter.close();
} finally {
  await Promise.all([server.stop(), ddb.stop()]);
}

const results = OPS.map((op) => ({ op, microsPerCall: median(times.get(op) ?? []) }));
const raw = results[0]?.microsPerCall ?? Number.NaN;
printTable(
  `GetItem read paths on loopback (median of ${runs} runs of ${ops} sequential calls)`,
  ['call', 'µs per call', 'over raw GET'],
  results.map((r) => [r.op, fmt(r.microsPerCall, 1), fmt(r.microsPerCall / raw)]),
);
saveResult('sdk-read', { machine, runs, ops, results });
