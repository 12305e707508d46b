/**
 * Child process of the memory benchmark: loads the handler, parses the event file the way the
 * Lambda runtime hands it over, then handles it while a worker thread samples the process RSS
 * (RSS is process-wide, so the sampler sees the peak even while planning blocks the main thread).
 *
 * argv: <redis|memcached> <cache address> <event file> [ours|classic]
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { memcachedAdapter } from '../src/adapters/memcached/index.js';
import { redisAdapter } from '../src/adapters/redis/index.js';
import type { CacheAdapter } from '../src/core/commands.js';
import { createStreamHandler } from '../src/lambda/handler.js';
import { classicMemcachedHandler, classicRedisHandler, makeEvent, rules } from './lib/workload.js';
import { Redis } from 'ioredis';
import memjs from 'memjs';

const [target, address, eventFile, variant = 'ours'] = process.argv.slice(2);
if (eventFile === undefined || address === undefined) throw new Error('usage: memory-child <redis|memcached> <address> <event file>');

const SAMPLER = `
const { parentPort } = require('node:worker_threads');
let max = 0;
const timer = setInterval(() => { max = Math.max(max, process.memoryUsage.rss()); }, 1);
parentPort.on('message', (m) => {
  if (m === 'reset') { max = process.memoryUsage.rss(); parentPort.postMessage('ok'); }
  else { clearInterval(timer); max = Math.max(max, process.memoryUsage.rss()); parentPort.postMessage(max); }
});
`;

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const ask = (worker: Worker, message: string) =>
  new Promise<unknown>((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(message);
  });

const adapter: CacheAdapter =
  target === 'redis' ? redisAdapter({ url: address, commandTimeoutMs: 60_000 }) : memcachedAdapter({ servers: address, timeoutMs: 60_000 });
const ours = createStreamHandler({ adapter, rules, logger: false, metrics: false });
// The classic blog Lambda, for reference: what sending the same batch costs without the library.
const classic =
  target === 'redis'
    ? classicRedisHandler(() => new Redis(address, { commandTimeout: 60_000 }))
    : classicMemcachedHandler(() => memjs.Client.create(address, { expires: 0, timeout: 60 }));
const handler = async (e: DynamoDBStreamEvent) => (variant === 'classic' ? (await classic(e), { batchItemFailures: [] }) : ours(e));
// Warm: connection open, code compiled, as in a warm Lambda environment.
await handler(makeEvent(50, 3));
gc();
const baseline = process.memoryUsage.rss();

const text = readFileSync(eventFile, 'utf8');
const event = JSON.parse(text) as DynamoDBStreamEvent;
gc();
const afterParse = process.memoryUsage.rss();

const sampler = new Worker(SAMPLER, { eval: true });
await ask(sampler, 'reset');
const { batchItemFailures } = await handler(event);
const peak = (await ask(sampler, 'stop')) as number;
await sampler.terminate();
await adapter.close();
if (batchItemFailures.length > 0) throw new Error('the batch failed');
process.stdout.write(JSON.stringify({ baseline, afterParse, peak, records: event.Records.length, eventBytes: Buffer.byteLength(text) }));
