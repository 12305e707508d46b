/**
 * BatchGetItem through the SDK plugin: a warm 100-key BatchGetItem answered by
 * `createReadThroughPlugin` from Redis (one pipeline of GETs), next to a raw ioredis pipeline of
 * the same 100 GETs and a plain BatchGetItem on DynamoDB Local, all on loopback. Time per
 * sequential call, median of runs.
 *
 * Run: `node bench/run.mjs sdk-batch-get` (options: `--runs 7 --ops 200`).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { BatchGetItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { redisAdapter } from '../src/adapters/redis/index.js';
import type { Rule } from '../src/core/rules.js';
import { localClientConfig } from '../src/local/dynamodb-local.js';
import { createReadThroughPlugin } from '../src/sdk/index.js';
import { startDynamoDb } from '../test/helpers/dynamodb-local.js';
import { startRedis } from '../test/helpers/redis-servers.js';
import { fmt, intArg, machineInfo, median, printMachine, printTable, saveResult } from './lib/report.js';

process.env['DDB_LOCAL_TELEMETRY'] = '0';
const runs = intArg('runs', 7);
const ops = intArg('ops', 200);
const machine = machineInfo();
printMachine(machine);

const KEYS = 100; // BatchGetItem's limit per request
const TABLE = 'Users';
const rules: Rule[] = [{ table: TABLE, key: (item) => `user:${String(item['pk'])}`, strategy: 'write-through', codec: 'dynamodb' }];
const OPS = ['raw Redis pipeline of 100 GETs', 'BatchGetItem through the plugin (100 warm hits)', 'BatchGetItem on DynamoDB Local'] as const;
type Op = (typeof OPS)[number];

const [server, ddb] = await Promise.all([startRedis(), startDynamoDb()]);
const times = new Map<Op, number[]>(OPS.map((op) => [op, []]));
try {
  await ddb.createTable({ name: TABLE });
  const pks = Array.from({ length: KEYS }, (_, i) => `u${i}`);
  for (const pk of pks) {
    await ddb.client.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk }, name: { S: 'Ada Lovelace' }, email: { S: 'ada@example.com' }, version: { N: '3' } } }),
    );
  }
  const adapter = redisAdapter({ url: server.url });
  const plugin = createReadThroughPlugin({ adapter, rules, logger: false, metrics: false });
  const cached = new DynamoDBClient(localClientConfig(ddb.endpoint));
  cached.middlewareStack.use(plugin);
  const redis = new Redis(server.port, server.host);
  const batch = (client: DynamoDBClient) => client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: pks.map((pk) => ({ pk: { S: pk } })) } } }));
  await batch(cached); // fills every key under leases: the timed batches are warm hits

  const calls: Record<Op, () => Promise<unknown>> = {
    'raw Redis pipeline of 100 GETs': () => {
      const pipeline = redis.pipeline();
      for (const pk of pks) pipeline.get(`user:${pk}`);
      return pipeline.exec();
    },
    'BatchGetItem through the plugin (100 warm hits)': () => batch(cached),
    'BatchGetItem on DynamoDB Local': () => batch(ddb.client),
  };
  for (let run = -1; run < runs; run++) {
    for (const op of OPS) {
      const start = performance.now();
      for (let i = 0; i < ops; i++) await calls[op]();
      if (run >= 0) times.get(op)?.push(((performance.now() - start) * 1000) / ops); // run -1 warms up
    }
    if (run >= 0) process.stderr.write(`run ${run + 1}/${runs}\n`);
  }
  const { ReadHits, ReadMisses } = plugin.stats();
  if (ReadMisses !== KEYS || ReadHits !== (runs + 1) * ops * KEYS)
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
  `100-key BatchGetItem read paths on loopback (median of ${runs} runs of ${ops} sequential calls)`,
  ['call', 'µs per call', 'over raw pipeline'],
  results.map((r) => [r.op, fmt(r.microsPerCall, 1), fmt(r.microsPerCall / raw)]),
);
saveResult('sdk-batch-get', { machine, runs, ops, results });
