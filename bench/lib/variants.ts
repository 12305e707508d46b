/**
 * The ways of applying a batch that the throughput and latency benchmarks compare, each built
 * against one cache: the library's handler (`ours`), the hand-written handler a team would
 * write instead, the raw client's pipelined ceiling, the classic blog Lambda and the naive port.
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
import type { Rule } from '../../src/core/rules.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { handwrittenMemcachedVersioned } from './memcached-cas.js';
import {
  ceilingMemcached,
  ceilingRedis,
  classicMemcachedHandler,
  classicRedisHandler,
  handwrittenMemcached,
  handwrittenRedis,
  type Mode,
  naiveHandler,
  plainCommands,
  RULES,
  rules,
} from './workload.js';

/** The variants the latency benchmark compares (write-through only). */
export const VARIANTS = ['ours', 'ceiling', 'classic', 'naive'] as const;
/** Every variant, in the order the throughput benchmark reports them. */
export const ALL_VARIANTS = ['ours', 'handwritten', 'ceiling', 'classic', 'naive'] as const;
export type Variant = (typeof ALL_VARIANTS)[number];
/** Apply one batch; the ceiling gets the planned commands, the others read the event. */
export type Runner = (event: DynamoDBStreamEvent, commands: readonly CacheCommand[]) => Promise<void>;

/** The variants against one cache that make sense for its mode, and how to close their clients. */
export interface VariantRunners {
  readonly runners: Partial<Record<Variant, Runner>>;
  readonly close: () => Promise<void>;
}

/** The runner of `variant`, which the caller knows exists for this cache and mode. */
export function runnerOf(runners: Partial<Record<Variant, Runner>>, variant: Variant): Runner {
  const runner = runners[variant];
  if (runner === undefined) throw new Error(`no ${variant} variant for this cache and mode`);
  return runner;
}

// Generous timeouts: a benchmark through a delay proxy must measure, not fail.
const TIMEOUT_MS = 30_000;

const toPlain = (image: Record<string, unknown>) => unmarshall(image as Parameters<typeof unmarshall>[0]);

/**
 * The commands the rules plan for a batch, uncoalesced (one per record and key, as planned):
 * what the ceiling sends. Empty for modes whose commands are not plain (versioned has no raw
 * ceiling).
 */
export function commandsOf(event: DynamoDBStreamEvent, batchRules: readonly Rule[] = rules): CacheCommand[] {
  const planned = planCommands(event.Records, batchRules).flatMap((plan) => {
    if (plan.error) throw plan.error;
    return [...plan.commands];
  });
  if (planned.some((c) => c.kind !== 'set' && c.kind !== 'delete')) return [];
  return plainCommands(planned);
}

function oursRunner(adapter: CacheAdapter, mode: Mode): Runner {
  const handler = createStreamHandler({ adapter, rules: RULES[mode], logger: false, metrics: false });
  return async (event) => {
    const { batchItemFailures } = await handler(event);
    if (batchItemFailures.length > 0) throw new Error(`ours reported ${batchItemFailures.length} failures`);
  };
}

/** The variants against a Redis server on `host:port`. */
export function redisVariants(port: number, host = '127.0.0.1', mode: Mode = 'write-through'): VariantRunners {
  const adapter = redisAdapter({ url: `redis://${host}:${port}`, commandTimeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS });
  const ceilingClient = new Redis(port, host);
  const naiveClient = new Redis(port, host);
  const handwrittenClient = new Redis(port, host);
  const runners: Partial<Record<Variant, Runner>> = { ours: oursRunner(adapter, mode), handwritten: handwrittenRedis(handwrittenClient, mode) };
  if (mode !== 'versioned') runners.ceiling = (_, commands) => ceilingRedis(ceilingClient, commands);
  if (mode === 'write-through') {
    runners.classic = classicRedisHandler(() => new Redis(port, host));
    runners.naive = naiveHandler(toPlain, (kind, key, value) => (kind === 'delete' ? naiveClient.del(key) : naiveClient.set(key, value, 'EX', 3600)));
  }
  return {
    runners,
    close: async () => {
      await adapter.close();
      ceilingClient.disconnect();
      naiveClient.disconnect();
      handwrittenClient.disconnect();
    },
  };
}

/** The variants against the Memcached servers `servers` (`host:port,…`). */
export function memcachedVariants(servers: string, mode: Mode = 'write-through'): VariantRunners {
  const adapter = memcachedAdapter({ servers, timeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS });
  const create = () => memjs.Client.create(servers, { expires: 0, timeout: TIMEOUT_MS / 1000 });
  const ceilingClient = create();
  const naiveClient = create();
  const handwrittenClient = create();
  const runners: Partial<Record<Variant, Runner>> = {
    ours: oursRunner(adapter, mode),
    handwritten: mode === 'versioned' ? handwrittenMemcachedVersioned(handwrittenClient) : handwrittenMemcached(handwrittenClient, mode),
  };
  if (mode !== 'versioned') runners.ceiling = (_, commands) => ceilingMemcached(ceilingClient, commands);
  if (mode === 'write-through') {
    runners.classic = classicMemcachedHandler(create);
    runners.naive = naiveHandler(toPlain, (kind, key, value) => (kind === 'delete' ? naiveClient.delete(key) : naiveClient.set(key, value, { expires: 3600 })));
  }
  return {
    runners,
    close: async () => {
      await adapter.close();
      ceilingClient.close();
      naiveClient.close();
      handwrittenClient.close();
    },
  };
}
