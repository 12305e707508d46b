/**
 * The stack the read-through integration tests share: DynamoDB Local with one streamed table,
 * Redis and Memcached, one adapter per cache, and a local stream runner feeding one handler per
 * adapter, so the plugin reads what the stream keeps. Each suite owns the `<suite>/…` keys.
 */
import type { CacheAdapter } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { createStreamRunner, type StreamRunner } from '../../src/local/stream-runner.js';
import { startDynamoDb, type DynamoDbLocalHarness } from './dynamodb-local.js';
import { startMemcached, type MemcachedNode } from './memcached-servers.js';
import { startRedis, type RedisServer } from './redis-servers.js';

process.env['DDB_LOCAL_TELEMETRY'] = '0';

export const SUITES = ['redis', 'memcached'] as const;
export type SuiteName = (typeof SUITES)[number];

/** `user#…` items are written through; `order#…` items are versioned with tombstones (readers fill). */
export const readThroughRules = (table: string, name: SuiteName): Rule[] => [
  {
    name: 'users',
    table,
    when: (item) => String(item['pk']).startsWith(`${name}/user#`),
    key: (item) => `user:${String(item['pk'])}`,
    strategy: 'write-through',
    codec: 'dynamodb',
  },
  {
    name: 'orders',
    table,
    when: (item) => String(item['pk']).startsWith(`${name}/order#`),
    key: (item) => `order:${String(item['pk'])}`,
    strategy: 'versioned',
    version: 'sequenceNumber',
    writes: 'tombstone',
    codec: 'dynamodb',
  },
];

export interface ReadThroughStack {
  readonly ddb: DynamoDbLocalHarness;
  readonly redis: RedisServer;
  readonly memcached: { readonly servers: string; readonly node: MemcachedNode; stop(): Promise<void> };
  readonly adapters: ReadonlyMap<SuiteName, CacheAdapter>;
  readonly runner: StreamRunner;
  stop(): Promise<void>;
}

export interface ReadThroughStackOptions {
  /** The handler's rules per suite; default {@link readThroughRules}. */
  readonly rulesFor?: (name: SuiteName) => Rule[];
  /** Runs once DynamoDB Local is up, before the runner starts (e.g. to create a table no rule covers). */
  readonly beforeRunner?: (ddb: DynamoDbLocalHarness) => Promise<void>;
}

/** Start the stack with `table` streamed into both caches. */
export async function startReadThroughStack(table: string, options: ReadThroughStackOptions = {}): Promise<ReadThroughStack> {
  const { rulesFor = (name: SuiteName) => readThroughRules(table, name), beforeRunner } = options;
  const [ddb, redis, memcached] = await Promise.all([startDynamoDb(), startRedis(), startMemcached()]);
  const adapters = new Map<SuiteName, CacheAdapter>([
    ['redis', redisAdapter({ url: redis.url, commandTimeoutMs: 500, connectTimeoutMs: 500 })],
    ['memcached', memcachedAdapter({ servers: memcached.servers, timeoutMs: 500, connectTimeoutMs: 500, deadlineMs: 1500 })],
  ]);
  await beforeRunner?.(ddb);
  const handlers = SUITES.map((name) =>
    createStreamHandler({ adapter: adapters.get(name) as CacheAdapter, rules: rulesFor(name), logger: false, metrics: false }),
  );
  const streamArn = await ddb.createTable({ name: table });
  const runner = createStreamRunner({
    endpoint: ddb.endpoint,
    streamArn,
    handler: async (event) => {
      const failures = [];
      for (const handler of handlers) failures.push(...(await handler(event)).batchItemFailures);
      return { batchItemFailures: failures };
    },
  });
  await runner.start();
  return {
    ddb,
    redis,
    memcached,
    adapters,
    runner,
    async stop() {
      await runner.stop();
      for (const adapter of adapters.values()) await adapter.close();
      await Promise.all([ddb.stop(), redis.stop(), memcached.stop()]);
    },
  };
}
