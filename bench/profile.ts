/**
 * Runs only the library's handler on 10,000-record batches against a real server, for
 * profiling: `node bench/run.mjs profile --cpu-prof --target redis` then
 * `node bench/lib/profile-summary.mjs .tmp/prof/<file>.cpuprofile`.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { memcachedAdapter } from '../src/adapters/memcached/index.js';
import { redisAdapter } from '../src/adapters/redis/index.js';
import type { CacheAdapter } from '../src/core/commands.js';
import { createStreamHandler } from '../src/lambda/handler.js';
import { startMemcached } from '../test/helpers/memcached-servers.js';
import { startRedis } from '../test/helpers/redis-servers.js';
import { argValue, intArg } from './lib/report.js';
import { makeEvent, rules } from './lib/workload.js';

const target = argValue('target') ?? 'redis';
const batches = intArg('batches', 20);
const size = intArg('size', 10_000);
if (target !== 'redis' && target !== 'memcached') throw new Error('--target must be redis or memcached');

const redis = target === 'redis' ? await startRedis() : undefined;
const memcached = target === 'memcached' ? await startMemcached() : undefined;
try {
  const adapter: CacheAdapter = redis
    ? redisAdapter({ url: redis.url, commandTimeoutMs: 30_000 })
    : memcachedAdapter({ servers: memcached?.servers ?? '', timeoutMs: 30_000 });
  const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });
  const event = makeEvent(size);
  const times: number[] = [];
  for (let i = 0; i < batches; i++) {
    const start = performance.now();
    const { batchItemFailures } = await handler(event);
    times.push(performance.now() - start);
    if (batchItemFailures.length > 0) throw new Error('batch failed');
  }
  times.sort((a, b) => a - b);
  console.log(`${target}: ${batches} batches of ${size}; min ${times[0]?.toFixed(1)} ms, median ${times[Math.floor(batches / 2)]?.toFixed(1)} ms`);
  await adapter.close();
} finally {
  await redis?.stop();
  await memcached?.stop();
}
