import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { AnyCacheCommand } from '../../src/core/commands.js';
import { planCommands } from '../../src/core/plan.js';
import type { Rule } from '../../src/core/rules.js';
import {
  canonicalVersion,
  compareStamps,
  compareVersions,
  decodeEnvelope,
  leaseEnvelope,
  tombstoneEnvelope,
  valueEnvelope,
  writeStamp,
} from '../../src/core/versioned.js';
import { ConfigError, InvalidRecordError } from '../../src/errors.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { event, insert, modify, remove } from '../helpers/records.js';

const bySeq: Rule = { key: (i) => `user:${String(i['pk'])}`, strategy: 'versioned', version: 'sequenceNumber' };
const byAttr: Rule = { key: (i) => `user:${String(i['pk'])}`, strategy: 'versioned', version: { attribute: 'v' } };

describe('versions', () => {
  it('compares decimal strings as integers of any size, never as JS numbers', () => {
    // 2^53 + 1 and 2^53 are equal as JS numbers.
    expect(compareVersions('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    expect(compareVersions('100000000000000000000000', '99999999999999999999999')).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.bigInt({ min: 0n, max: 10n ** 40n }), (a, b) => {
        expect(Math.sign(compareVersions(a.toString(), b.toString()))).toBe(a > b ? 1 : a < b ? -1 : 0);
      }),
    );
  });

  it('orders writes by version, and a delete above a value at the same version', () => {
    expect(compareStamps(writeStamp('set-versioned', '10'), writeStamp('delete-versioned', '9'))).toBeGreaterThan(0);
    expect(compareStamps(writeStamp('delete-versioned', '7'), writeStamp('set-versioned', '7'))).toBeGreaterThan(0);
    expect(compareStamps(writeStamp('set-versioned', '7'), writeStamp('delete-versioned', '7'))).toBeLessThan(0);
    expect(compareStamps(writeStamp('set-versioned', '7'), writeStamp('set-versioned', '7'))).toBe(0);
  });

  it('canonicalizes leading zeros and refuses non-integers', () => {
    expect(canonicalVersion('007')).toBe('7');
    expect(canonicalVersion('0')).toBe('0');
    expect(canonicalVersion('-1')).toBeUndefined();
    expect(canonicalVersion('1.5')).toBeUndefined();
    expect(canonicalVersion('1e3')).toBeUndefined();
  });

  it('round-trips every envelope kind and reads anything else as plain', () => {
    expect(decodeEnvelope(valueEnvelope('12', '{"a":1}'))).toEqual({ kind: 'value', version: '12', payload: '{"a":1}' });
    expect(decodeEnvelope(valueEnvelope(undefined, ''))).toEqual({ kind: 'value', version: undefined, payload: '' });
    expect(decodeEnvelope(tombstoneEnvelope('5'))).toEqual({ kind: 'tombstone', version: '5' });
    expect(decodeEnvelope(leaseEnvelope('5', 1234, 'tok'))).toEqual({ kind: 'lease', floor: '5', deadlineMs: 1234, token: 'tok' });
    expect(decodeEnvelope('{"a":1}')).toEqual({ kind: 'plain', payload: '{"a":1}' });
    expect(decodeEnvelope('\u001ex12\u001f')).toEqual({ kind: 'plain', payload: '\u001ex12\u001f' });
    expect(decodeEnvelope('\u001ev1x\u001fp')).toEqual({ kind: 'plain', payload: '\u001ev1x\u001fp' });
  });
});

describe('planCommands with the versioned strategy', () => {
  it('writes through with the SequenceNumber as version, and leaves a tombstone on REMOVE', () => {
    const plans = planCommands([insert({ pk: 'a', name: 'A' }, { sequenceNumber: '000100' }), remove({ pk: 'a' }, { sequenceNumber: '200' })], [bySeq]);
    expect(plans[0]?.commands).toEqual([{ kind: 'set-versioned', key: 'user:a', value: '{"pk":"a","name":"A"}', version: '100' }]);
    expect(plans[1]?.commands).toEqual([{ kind: 'delete-versioned', key: 'user:a', version: '200', tombstoneTtlSeconds: 90_000 }]);
  });

  it('takes the version from an attribute: the new image on writes, the old image on REMOVE', () => {
    const plans = planCommands(
      [modify({ pk: 'a', v: 1 }, { pk: 'a', v: 2 }), remove({ pk: 'a', v: 2 })],
      [{ ...byAttr, tombstoneTtlSeconds: 60, ttlSeconds: 30 }],
    );
    expect(plans[0]?.commands).toEqual([{ kind: 'set-versioned', key: 'user:a', value: '{"pk":"a","v":2}', version: '2', ttlSeconds: 30 }]);
    expect(plans[1]?.commands).toEqual([{ kind: 'delete-versioned', key: 'user:a', version: '2', tombstoneTtlSeconds: 60 }]);
  });

  it('tombstones the keys the old image owned and the new one does not', () => {
    const rule: Rule = { key: (i) => `email:${String(i['email'])}`, strategy: 'versioned', version: { attribute: 'v' } };
    const [plan] = planCommands([modify({ pk: 'a', email: 'x', v: 1 }, { pk: 'a', email: 'y', v: 2 })], [rule]);
    expect(plan?.commands.map((c) => [c.kind, c.key])).toEqual([
      ['delete-versioned', 'email:x'],
      ['set-versioned', 'email:y'],
    ]);
  });

  it("with writes: 'tombstone' invalidates every key at the record's version", () => {
    const [plan] = planCommands([modify({ pk: 'a', v: 1 }, { pk: 'a', v: 2 })], [{ ...byAttr, writes: 'tombstone' }]);
    expect(plan?.commands).toEqual([{ kind: 'delete-versioned', key: 'user:a', version: '2', tombstoneTtlSeconds: 90_000 }]);
  });

  it('refuses a missing, fractional or non-increasing version attribute, naming it', () => {
    const plans = planCommands(
      [insert({ pk: 'a' }), insert({ pk: 'a', v: 1.5 }), modify({ pk: 'a', v: 3 }, { pk: 'a', v: 3 }), insert({ pk: 'a', v: 'abc' })],
      [byAttr],
    );
    for (const plan of plans) {
      expect(plan.error).toBeInstanceOf(InvalidRecordError);
      expect(plan.error?.field).toBe('v');
    }
    expect(plans[2]?.error?.message).toMatch(/did not increase/);
  });

  it('accepts a decimal-integer string attribute', () => {
    const [plan] = planCommands([insert({ pk: 'a', v: '12345678901234567890123' })], [byAttr]);
    expect(plan?.commands[0]).toMatchObject({ version: '12345678901234567890123' });
  });

  it('refuses sequenceNumber versions for Kinesis payloads', () => {
    const record = insert({ pk: 'a' });
    const [plan] = planCommands([{ ...record, tableName: 'App' }], [bySeq], { source: 'kinesis' });
    expect(plan?.error?.message).toMatch(/Kinesis/);
  });
});

describe('memory adapter: versioned commands and leases', () => {
  const set = (key: string, version: string, value = `v${version}`): AnyCacheCommand => ({ kind: 'set-versioned', key, value, version });
  const del = (key: string, version: string): AnyCacheCommand => ({ kind: 'delete-versioned', key, version, tombstoneTtlSeconds: 60 });

  it('applies only strictly newer writes; a delete outranks a value at its version', async () => {
    const cache = memoryAdapter();
    await cache.execute([set('k', '5'), set('k', '3'), set('k', '5', 'dup')]);
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toEqual({ kind: 'value', version: '5', payload: 'v5' });
    await cache.execute([del('k', '5'), set('k', '5'), set('k', '4')]);
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toEqual({ kind: 'tombstone', version: '5' });
    expect(cache.ttl('k')).toBe(60);
    await cache.execute([set('k', '6')]);
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toMatchObject({ kind: 'value', version: '6' });
  });

  it('ends in the newest state for any order and duplication of the same writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.boolean()), { minLength: 1, maxLength: 30 }), async (ops) => {
        const cache = memoryAdapter();
        await cache.execute(ops.map(([v, isDelete]) => (isDelete ? del('k', String(v)) : set('k', String(v)))));
        const top = Math.max(...ops.map(([v]) => v));
        const topDeleted = ops.some(([v, d]) => v === top && d);
        expect(decodeEnvelope((await cache.get('k')) ?? '')).toMatchObject(
          topDeleted ? { kind: 'tombstone', version: String(top) } : { kind: 'value', version: String(top) },
        );
      }),
    );
  });

  it('grants one lease, voids it on a newer write, and drops the late fill', async () => {
    const cache = memoryAdapter();
    expect(await cache.lease('k', 'r1', 1000)).toEqual({ granted: true });
    expect(await cache.lease('k', 'r2', 1000)).toMatchObject({ granted: false });
    await cache.execute([del('k', '7')]);
    expect(await cache.fill('k', 'r1', 'stale')).toBe(false);
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toEqual({ kind: 'tombstone', version: '7' });
  });

  it('carries a tombstone version as the lease floor into the fill, and keeps the tombstone TTL', async () => {
    let now = 1_000_000;
    const cache = memoryAdapter({ now: () => now });
    await cache.execute([del('k', '7')]);
    expect(await cache.lease('k', 'r1', 500)).toEqual({ granted: true });
    expect(cache.ttl('k')).toBe(60);
    await cache.execute([set('k', '6')]); // older than the floor: refused
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toMatchObject({ kind: 'lease', floor: '7', token: 'r1' });
    now += 600; // the lease deadline passed: another reader may take it over, floor kept
    expect(await cache.lease('k', 'r2', 500)).toEqual({ granted: true });
    expect(await cache.fill('k', 'r1', 'late')).toBe(false);
    expect(await cache.fill('k', 'r2', 'fresh', { ttlSeconds: 10 })).toBe(true);
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toEqual({ kind: 'value', version: '7', payload: 'fresh' });
    await cache.execute([set('k', '7')]); // a duplicate of what the floor covered
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toMatchObject({ payload: 'fresh' });
  });

  it('gives a lease back: the floor tombstone returns, or the key goes', async () => {
    const cache = memoryAdapter();
    await cache.execute([del('k', '3')]);
    await cache.lease('k', 't', 1000);
    expect(await cache.fill('k', 't', undefined)).toBe(true);
    expect(decodeEnvelope((await cache.get('k')) ?? '')).toEqual({ kind: 'tombstone', version: '3' });
    await cache.lease('j', 't', 1000);
    expect(await cache.fill('j', 't', undefined)).toBe(true);
    expect(await cache.get('j')).toBeUndefined();
  });
});

describe('handler with versioned rules', () => {
  it('refuses a versioned rule without a version, or on an adapter that cannot run it', () => {
    const plain = { name: 'plain', execute: async () => [], get: async () => undefined, close: async () => {} };
    expect(() =>
      createStreamProcessor({ adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'versioned' }], logger: false, metrics: false }),
    ).toThrow(/rules\[0\]\.version/);
    expect(() => createStreamProcessor({ adapter: plain, rules: [bySeq], logger: false, metrics: false })).toThrow(ConfigError);
    expect(() =>
      createStreamProcessor({
        adapter: memoryAdapter(),
        rules: [{ key: () => 'k', strategy: 'invalidate', version: 'sequenceNumber' }],
        logger: false,
        metrics: false,
      }),
    ).toThrow(/only applies to strategy 'versioned'/);
  });

  it('survives a replay of an older batch after a newer one', async () => {
    const cache = memoryAdapter();
    const p = createStreamProcessor({ adapter: cache, rules: [bySeq], logger: false, metrics: false });
    const first = event(insert({ pk: 'a', n: 1 }), modify({ pk: 'a', n: 1 }, { pk: 'a', n: 2 }));
    const second = event(modify({ pk: 'a', n: 2 }, { pk: 'a', n: 3 }));
    await p.process(first);
    await p.process(second);
    const replay = await p.process(first); // Lambda re-delivers the first batch
    expect(replay.batchItemFailures).toEqual([]);
    expect(decodeEnvelope((await cache.get('user:a')) ?? '')).toMatchObject({ kind: 'value', payload: '{"pk":"a","n":3}' });
  });
});
