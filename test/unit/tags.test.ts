import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { AnyCacheCommand } from '../../src/core/commands.js';
import { planCommands } from '../../src/core/plan.js';
import type { Rule } from '../../src/core/rules.js';
import { parseTagState, TAG_KEY_PREFIX, tagKey, taggedKey } from '../../src/core/tags.js';
import { ConfigError, InvalidRecordError } from '../../src/errors.js';
import { validateConfig } from '../../src/lambda/config.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { createCacheReader } from '../../src/reader/index.js';
import { event, insert, modify, remove } from '../helpers/records.js';

const ordersOf: Rule = { name: 'orders', table: 'App', strategy: 'tags', tags: (order) => `orders-of:${String(order['customer'])}` };
const keysOf = (commands: readonly AnyCacheCommand[]) => commands.map((c) => c.key);

describe('the tags strategy', () => {
  it('bumps every tag of the old and the new image on INSERT, MODIFY and REMOVE', () => {
    const [ins, mod, rem] = planCommands(
      [insert({ pk: 'o1', customer: 'c1' }), modify({ pk: 'o1', customer: 'c1' }, { pk: 'o1', customer: 'c2' }), remove({ pk: 'o1', customer: 'c2' })],
      [ordersOf],
    );
    expect(keysOf(ins?.commands ?? [])).toEqual([tagKey('orders-of:c1')]);
    expect(keysOf(mod?.commands ?? [])).toEqual([tagKey('orders-of:c1'), tagKey('orders-of:c2')]);
    expect(keysOf(rem?.commands ?? [])).toEqual([tagKey('orders-of:c2')]);
    for (const command of [...(ins?.commands ?? []), ...(mod?.commands ?? [])]) {
      expect(command).toMatchObject({ kind: 'set', ttlSeconds: 86_400 });
      expect(command.key.startsWith(TAG_KEY_PREFIX)).toBe(true);
    }
  });

  it('writes a fresh, never reused token on every bump, with the time of the bump', () => {
    const records = Array.from({ length: 50 }, () => modify({ pk: 'o1', customer: 'c1' }, { pk: 'o1', customer: 'c1' }));
    const states = planCommands(records, [ordersOf]).map((plan) => {
      const command = plan.commands[0];
      return command?.kind === 'set' ? command.value : '';
    });
    expect(new Set(states.map((state) => parseTagState(state).token)).size).toBe(50);
    for (const state of states) expect(parseTagState(state).bumpedAtMs).toBeGreaterThan(0);
  });

  it('fails the record, naming the view type, when the stream does not carry both images', () => {
    for (const view of ['NEW_IMAGE', 'OLD_IMAGE', 'KEYS_ONLY'] as const) {
      const [plan] = planCommands([insert({ pk: 'o1', customer: 'c1' }, { view })], [ordersOf]);
      expect(plan?.error).toBeInstanceOf(InvalidRecordError);
      expect(plan?.error?.message).toContain(view);
      expect(plan?.error?.message).toContain('NEW_AND_OLD_IMAGES');
    }
  });

  it.each<[string, Rule['tags'], RegExp]>([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
      /tags threw Error/,
    ],
    ['returns a number', () => 42 as unknown as string, /tags must return a string or an array/],
    ['returns an array with a number', () => ['a', 5] as unknown as string[], /empty or non-string tag/],
    ['returns an empty tag', () => '', /empty or non-string tag/],
    ['builds a tag from a missing attribute', (order) => `orders-of:${String(order['nope'])}`, /does not have/],
  ])('fails the record, naming the rule, when tags %s', (_, tags, reason) => {
    const [plan] = planCommands([insert({ pk: 'o1', customer: 'c1' })], [{ ...ordersOf, tags } as Rule]);
    expect(plan?.error).toBeInstanceOf(InvalidRecordError);
    expect(plan?.error).toMatchObject({ rule: 'orders' });
    expect(plan?.error?.message).toMatch(reason);
  });

  it('accepts an empty list of tags: no command', () => {
    const [plan] = planCommands([insert({ pk: 'o1' })], [{ ...ordersOf, tags: () => [] } as Rule]);
    expect(plan?.error).toBeUndefined();
    expect(plan?.commands).toEqual([]);
  });

  it('refuses at configuration a tags rule with a key, without tags, or with value options; and a key rule with tags', () => {
    const adapter = memoryAdapter();
    const bad: [unknown, RegExp][] = [
      [{ ...ordersOf, key: () => 'k' }, /rules\[0\]\.key: a 'tags' rule has no key/],
      [{ strategy: 'tags' }, /rules\[0\]\.tags: a tags rule needs tags/],
      [{ ...ordersOf, ttlSeconds: 60 }, /rules\[0\]\.ttlSeconds: a tags rule caches no value/],
      [{ strategy: 'invalidate', key: () => 'k', tags: () => 't' }, /rules\[0\]\.tags: only applies to strategy 'tags'/],
      [{ strategy: 'invalidate' }, /rules\[0\]\.key: required/],
      [{ ...ordersOf, tagTtlSeconds: 0 }, /rules\[0\]\.tagTtlSeconds/],
    ];
    for (const [rule, message] of bad) expect(() => validateConfig({ adapter, rules: [rule] })).toThrow(message);
    expect(() => validateConfig({ adapter, rules: [{ ...ordersOf, tagTtlSeconds: 600 }] })).not.toThrow();
  });
});

/** An adapter that records each call, to count round trips. */
function counting() {
  const calls: string[] = [];
  let inFlight = 0;
  let waves = 0;
  const track = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    calls.push(name);
    if (inFlight++ === 0) waves++;
    try {
      // Let every call issued in the same turn start before any answers, as on a socket.
      await new Promise((resolve) => setImmediate(resolve));
      return await run();
    } finally {
      inFlight--;
    }
  };
  const memory = memoryAdapter();
  const adapter: typeof memory = {
    ...memory,
    get: (key) => track(`get ${key}`, () => memory.get(key)),
    execute: (commands) => track('execute', () => memory.execute(commands)),
    lease: (key, token, ttl) => track(`lease ${key}`, () => memory.lease(key, token, ttl)),
    fill: (key, token, value, options) => track(`fill ${key}`, () => memory.fill(key, token, value, options)),
  };
  return { adapter, calls, waves: () => waves, reset: () => ((waves = 0), calls.splice(0)) };
}

describe('createCacheReader with tags', () => {
  it('costs one extra round trip per read for any number of tags', async () => {
    const { adapter, calls, waves, reset } = counting();
    const reader = createCacheReader({ adapter });
    const tags = ['t1', 't2', 't3', 't4', 't5'];
    await reader.getOrLoad('page', async () => 'p', { tags });
    reset();
    expect(await reader.get('page', { tags })).toBe('p');
    expect(calls).toHaveLength(6);
    expect(waves()).toBe(2);
    reset();
    expect(await reader.getOrLoad('page', async () => 'unused', { tags })).toBe('p');
    expect(waves()).toBe(2);
  });

  it('refuses bad tags, and versionOf with tags, with a ConfigError before any cache traffic', async () => {
    const { adapter, calls } = counting();
    const reader = createCacheReader({ adapter });
    const bad: unknown[] = [{ tags: 'orders-of:c1' }, { tags: [''] }, { tags: [1] }, { tags: ['ok'], versoinOf: () => 1 }];
    for (const options of bad) {
      await expect(reader.get('k', options as never)).rejects.toBeInstanceOf(ConfigError);
      await expect(reader.getOrLoad('k', async () => 1, options as never)).rejects.toBeInstanceOf(ConfigError);
    }
    await expect(reader.getOrLoad('k', async () => ({ v: 1 }), { tags: ['t'], versionOf: () => 1 })).rejects.toThrow(/versionOf: cannot be combined with tags/);
    await expect(reader.getOrLoad('k', async () => 1, { negativeTtlSeconds: -1 })).rejects.toThrow(/negativeTtlSeconds/);
    expect(calls).toEqual([]);
  });

  it('stores a tagged entry under its key and the digest of its tag states', async () => {
    const cache = memoryAdapter();
    const reader = createCacheReader({ adapter: cache });
    await reader.getOrLoad('orders:c1', async () => ['o1'], { tags: ['orders-of:c1'], ttlSeconds: 300 });
    const state = (await cache.get(tagKey('orders-of:c1'))) ?? '';
    const entryKey = taggedKey('orders:c1', ['orders-of:c1'], [state]);
    expect(entryKey).toMatch(/^orders:c1#tags:[0-9a-f]{32}$/);
    expect(cache.ttl(entryKey)).toBe(300);
    expect(cache.ttl(tagKey('orders-of:c1'))).toBe(86_400);
    expect(cache.keys().sort()).toEqual([entryKey, tagKey('orders-of:c1')].sort());
  });

  it('with a hold-off, serves loads unfilled for a while after a change, then fills again', async () => {
    let clock = 1_000_000;
    const realNow = Date.now;
    Date.now = () => clock;
    try {
      const cache = memoryAdapter();
      const reader = createCacheReader({ adapter: cache, tagHoldOffMs: 2_000 });
      const processor = createStreamProcessor({ adapter: cache, rules: [ordersOf], logger: false, metrics: false });
      let loads = 0;
      const load = async () => `page${++loads}`;
      const tags = ['orders-of:c1'];
      await processor.process(event(insert({ pk: 'o1', customer: 'c1' })));
      expect(await reader.getOrLoad('p', load, { tags })).toBe('page1');
      expect(await reader.getOrLoad('p', load, { tags })).toBe('page2');
      clock += 2_001;
      expect(await reader.getOrLoad('p', load, { tags })).toBe('page3');
      expect(await reader.getOrLoad('p', load, { tags })).toBe('page3');
    } finally {
      Date.now = realNow;
    }
  });

  it('refuses a negative tagHoldOffMs and an invalid tagTtlSeconds', () => {
    expect(() => createCacheReader({ adapter: memoryAdapter(), tagHoldOffMs: -1 })).toThrow(/tagHoldOffMs/);
    expect(() => createCacheReader({ adapter: memoryAdapter(), tagTtlSeconds: 0 })).toThrow(/tagTtlSeconds/);
  });
});
