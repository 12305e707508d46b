/**
 * The four ways of applying a batch that the throughput and latency benchmarks compare, each
 * built against one cache: the library's handler (`ours`), the raw client's pipelined ceiling,
 * the classic blog Lambda and the naive port.
 *
 * @module
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { Redis } from 'ioredis';
import memjs from 'memjs';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import type { CacheAdapter, CacheCommand } from '../../src/core/commands.js';
import { planCommands } from '../../src/core/plan.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { ceilingMemcached, ceilingRedis, classicMemcachedHandler, classicRedisHandler, naiveHandler, plainCommands, rules } from './workload.js';

export const VARIANTS = ['ours', 'ceiling', 'classic', 'naive'] as const;
export type Variant = (typeof VARIANTS)[number];
/** Apply one batch; the ceiling gets the planned commands, the others read the event. */
export type Runner = (event: DynamoDBStreamEvent, commands: readonly CacheCommand[]) => Promise<void>;

/** Every variant against one cache, and how to close the clients they opened. */
export interface VariantRunners {
  readonly runners: Record<Variant, Runner>;
  readonly close: () => Promise<void>;
}

// Generous timeouts: a benchmark through a delay proxy must measure, not fail.
const TIMEOUT_MS = 30_000;

const toPlain = (image: Record<string, unknown>) => unmarshall(image as Parameters<typeof unmarshall>[0]);

/** The plain commands the rules plan for a batch: what the ceiling sends. */
export function commandsOf(event: DynamoDBStreamEvent): CacheCommand[] {
  return plainCommands(
    planCommands(event.Records, rules).flatMap((plan) => {
      if (plan.error) throw plan.error;
      return [...plan.commands];
    }),
  );
}

function oursRunner(adapter: CacheAdapter): Runner {
  const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });
  return async (event) => {
    const { batchItemFailures } = await handler(event);
    if (batchItemFailures.length > 0) throw new Error(`ours reported ${batchItemFailures.length} failures`);
  };
}

/** The variants against a Redis server on `host:port`. */
export function redisVariants(port: number, host = '127.0.0.1'): VariantRunners {
  const adapter = redisAdapter({ url: `redis://${host}:${port}`, commandTimeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS });
  const ceilingClient = new Redis(port, host);
  const naiveClient = new Redis(port, host);
  return {
    runners: {
      ours: oursRunner(adapter),
      ceiling: (_, commands) => ceilingRedis(ceilingClient, commands),
      classic: classicRedisHandler(() => new Redis(port, host)),
      naive: naiveHandler(toPlain, (kind, key, value) => (kind === 'delete' ? naiveClient.del(key) : naiveClient.set(key, value, 'EX', 3600))),
    },
    close: async () => {
      await adapter.close();
      ceilingClient.disconnect();
      naiveClient.disconnect();
    },
  };
}

/** The variants against the Memcached servers `servers` (`host:port,…`). */
export function memcachedVariants(servers: string): VariantRunners {
  const adapter = memcachedAdapter({ servers, timeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS });
  const create = () => memjs.Client.create(servers, { expires: 0, timeout: TIMEOUT_MS / 1000 });
  const ceilingClient = create();
  const naiveClient = create();
  return {
    runners: {
      ours: oursRunner(adapter),
      ceiling: (_, commands) => ceilingMemcached(ceilingClient, commands),
      classic: classicMemcachedHandler(create),
      naive: naiveHandler(toPlain, (kind, key, value) => (kind === 'delete' ? naiveClient.delete(key) : naiveClient.set(key, value, { expires: 3600 }))),
    },
    close: async () => {
      await adapter.close();
      ceilingClient.close();
      naiveClient.close();
    },
  };
}
