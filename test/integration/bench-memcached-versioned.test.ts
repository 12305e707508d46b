import type { DynamoDBStreamEvent } from 'aws-lambda';
import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handwrittenMemcachedVersioned } from '../../bench/lib/memcached-cas.js';
import { makeEvent, RULES } from '../../bench/lib/workload.js';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { type MemcachedPool, memcachedTtl, startMemcachedPool, textCommand } from '../helpers/memcached-servers.js';

// The throughput bench compares the library with this hand-written handler; the comparison only
// means something if both leave the same cache. Each writes to its own two-server pool.
let oursPool: MemcachedPool;
let handPool: MemcachedPool;
let adapter: CacheAdapter;
let handClient: memjs.Client;
let oursReader: memjs.Client;
let handReader: memjs.Client;
let ours: ReturnType<typeof createStreamHandler>;
let handwritten: ReturnType<typeof handwrittenMemcachedVersioned>;

beforeAll(async () => {
  oursPool = await startMemcachedPool(2);
  handPool = await startMemcachedPool(2);
  adapter = memcachedAdapter({ servers: oursPool.servers, timeoutMs: 2_000, connectTimeoutMs: 2_000 });
  handClient = memjs.Client.create(handPool.servers, { timeout: 2 });
  oursReader = memjs.Client.create(oursPool.servers, { timeout: 2 });
  handReader = memjs.Client.create(handPool.servers, { timeout: 2 });
  ours = createStreamHandler({ adapter, rules: RULES.versioned, logger: false, metrics: false });
  handwritten = handwrittenMemcachedVersioned(handClient);
});
afterAll(async () => {
  await adapter?.close();
  handClient?.close();
  oursReader?.close();
  handReader?.close();
  await oursPool?.stop();
  await handPool?.stop();
});

async function applyToBoth(event: DynamoDBStreamEvent): Promise<void> {
  expect(await ours(event)).toEqual({ batchItemFailures: [] });
  await handwritten(event);
}

/** Every user key of `event`: its stored string and remaining TTL, in one pool. */
async function cacheOf(pool: MemcachedPool, reader: memjs.Client, event: DynamoDBStreamEvent) {
  const keys = [...new Set(event.Records.map((r) => `user:${String(r.dynamodb?.Keys?.['pk']?.S).slice('USER#'.length)}`))];
  const nodeOf = (key: string) => pool.nodes[memjs.Utils.hashCode(key) % pool.nodes.length]?.address ?? '';
  return Promise.all(keys.map(async (key) => ({ key, stored: (await reader.get(key)).value?.toString('utf8'), ttl: await memcachedTtl(nodeOf(key), key) })));
}

async function expectSameCaches(event: DynamoDBStreamEvent) {
  const oursCache = await cacheOf(oursPool, oursReader, event);
  const handCache = await cacheOf(handPool, handReader, event);
  expect(handCache.map(({ key, stored }) => ({ key, stored }))).toEqual(oursCache.map(({ key, stored }) => ({ key, stored })));
  // Both set TTLs the same way (1 h for values, 25 h for tombstones), read a moment apart.
  handCache.forEach(({ ttl }, i) => expect(Math.abs((ttl ?? 0) - (oursCache[i]?.ttl ?? 0))).toBeLessThanOrEqual(2));
  // Not vacuous: the batch left both values and tombstones.
  const kinds = new Set(oursCache.map(({ stored }) => stored?.slice(0, 2)));
  expect(kinds).toEqual(new Set(['\u001ev', '\u001et']));
}

async function flushAll() {
  await Promise.all([...oursPool.nodes, ...handPool.nodes].map((node) => textCommand(node.address, 'flush_all')));
}

describe('the hand-written versioned Memcached handler of the bench', () => {
  it('leaves the same values, tombstones and TTLs as ours for a batch of unique keys', async () => {
    await flushAll();
    const event = makeEvent(300, 7);

    await applyToBoth(event);

    await expectSameCaches(event);
  });

  it('replaces older values and tombstones like ours when a newer batch of the same items follows', async () => {
    await flushAll();
    await applyToBoth(makeEvent(300, 9));
    const newer = makeEvent(300, 10, { versionBase: 10 });

    await applyToBoth(newer);

    await expectSameCaches(newer);
    const stored = await handReader.get('user:100000');
    const header = stored.value?.toString('utf8').split('\u001f', 1)[0];
    expect(header?.slice(2)).toMatch(/^1[12]$/); // the newer batch's version (10 + 1 or 2)
  });

  it('leaves the same cache as ours when every key appears twice in the batch', async () => {
    await flushAll();
    const event = makeEvent(300, 11, { repeatKeys: true });

    await applyToBoth(event);

    await expectSameCaches(event);
  });

  it('refuses older writes like ours when the records of each key arrive newest first', async () => {
    await flushAll();
    const event = makeEvent(300, 13, { repeatKeys: true });

    await applyToBoth({ Records: [...event.Records].reverse() });

    await expectSameCaches(event);
  });

  it('leaves the same cache as ours when a batch is replayed', async () => {
    await flushAll();
    const event = makeEvent(300, 17, { repeatKeys: true });

    await applyToBoth(event);
    await applyToBoth(event);

    await expectSameCaches(event);
  });
});
