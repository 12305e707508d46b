import { describe, expect, it } from 'vitest';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { CacheAdapter, CommandResult } from '../../src/core/commands.js';
import type { AttributeMap, Rule } from '../../src/core/rules.js';
import { CasContentionError } from '../../src/core/versioned-cas.js';
import { CacheCommandError, ValueTooLargeError } from '../../src/errors.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { describeError } from '../../src/lambda/logger.js';
import { prng } from '../helpers/prng.js';
import { captureStdout } from '../helpers/stdout.js';

/*
 * Item data is built from runes (U+16A0-U+16F0): no rule name, digit, attribute name or
 * message text of the library uses them, so any run of 3 of them in a log line or an error
 * message is item data that leaked.
 */
const RUNES = Array.from({ length: 0x16f0 - 0x16a0 }, (_, i) => String.fromCodePoint(0x16a0 + i));
const NOISE = ['"', "'", '\\', '\n', '\u0000', '\u001b', '😀', '\u2028', '{', '}', ' ', 'undefined'];
const LEAK = /[\u16a0-\u16f0]{3,}/u;

function markerText(random: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  let out = '';
  const parts = 2 + Math.floor(random() * 4);
  for (let p = 0; p < parts; p++) {
    const run = 3 + Math.floor(random() * (random() < 0.2 ? 3000 : 12));
    for (let i = 0; i < run; i++) out += pick(RUNES);
    out += pick(NOISE);
  }
  return out;
}

const output = captureStdout();

function expectNoLeak(texts: readonly string[]): void {
  for (const text of texts) expect(text.match(LEAK)?.[0], text.slice(0, 300)).toBeUndefined();
}

function record(image: AttributeMap, keys: AttributeMap, eventName: 'INSERT' | 'MODIFY' = 'INSERT', old?: AttributeMap, view = 'NEW_AND_OLD_IMAGES') {
  return {
    eventID: 'evt-1',
    eventName,
    eventSource: 'aws:dynamodb',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/App/stream/2026-01-01T00:00:00.000',
    dynamodb: { SequenceNumber: '100', StreamViewType: view, Keys: keys, NewImage: image, ...(old ? { OldImage: old } : {}) },
  };
}

/** Every way a record can fail planning, each carrying marker data where an item can. */
function invalidCases(m: () => string): { name: string; rules: Rule[]; record: unknown }[] {
  const pk = { pk: { S: m() } };
  const plain: Rule[] = [{ key: (i) => `u:${String(i['pk'])}`, strategy: 'write-through' }];
  return [
    { name: 'invalid N', rules: plain, record: record({ ...pk, n: { N: m() } }, pk) },
    { name: 'invalid B', rules: plain, record: record({ ...pk, b: { B: m() } }, pk) },
    { name: 'unknown type tag', rules: plain, record: record({ ...pk, a: { [m()]: m() } as never }, pk) },
    { name: 'bad value under a marker name', rules: plain, record: record({ ...pk, m: { M: { [m()]: { N: m() } } } }, pk) },
    { name: 'bad list member', rules: plain, record: record({ ...pk, l: { L: [{ S: m() }, { BOOL: m() as never }] } }, pk) },
    {
      name: 'invalid version attribute',
      rules: [{ key: (i) => `u:${String(i['pk'])}`, strategy: 'versioned', version: { attribute: 'v' } }],
      record: record({ ...pk, v: { S: m() } }, pk),
    },
    {
      name: 'version that did not increase',
      rules: [{ key: (i) => `u:${String(i['pk'])}`, strategy: 'versioned', version: { attribute: 'v' } }],
      record: record({ ...pk, v: { N: '5' } }, pk, 'MODIFY', { ...pk, v: { N: '7' } }),
    },
    {
      name: 'rule key throws',
      rules: [
        {
          key: () => {
            throw new Error(m());
          },
          strategy: 'invalidate',
        },
      ],
      record: record(pk, pk),
    },
    {
      name: 'rule reads an attribute named by data on a keys-only view',
      rules: [{ key: (i) => `u:${String(i[String(i['pk'])])}`, strategy: 'invalidate' }],
      record: record(undefined as never, pk, 'INSERT', undefined, 'KEYS_ONLY'),
    },
    {
      name: 'key built from a missing attribute named by data',
      rules: [{ key: (i) => `u:${String(i[String(i['pk'])])}`, strategy: 'invalidate' }],
      // Data that itself reads "undefined" would explain the text, so no error is due.
      record: record({ pk: { S: m().replaceAll('undefined', '') } }, pk),
    },
    { name: 'value returns a Promise', rules: [{ key: () => m(), strategy: 'write-through', value: async () => m() }], record: record(pk, pk) },
    { name: 'too many keys', rules: [{ key: () => [m(), m(), m()], strategy: 'invalidate' }], record: record(pk, pk) },
  ];
}

/** An adapter whose every command fails with the library's own key-carrying errors. */
function failingAdapter(): CacheAdapter {
  let n = 0;
  return {
    name: 'failing',
    async execute(commands) {
      return commands.map((c): CommandResult => {
        n++;
        const errors = [
          new CasContentionError(c.key, 64),
          new ValueTooLargeError({ key: c.key, bytes: 10, limit: 1 }),
          new CacheCommandError('refused', { key: c.key, command: 'set' }),
        ];
        return { ok: false, error: errors[n % errors.length] as Error };
      });
    },
    get: async () => undefined,
    close: async () => {},
  };
}

describe('no item data in logs or error messages', () => {
  it.each([1, 2, 3, 4, 5])('invalid records of every kind (seed %i)', async (seed) => {
    const random = prng(seed);
    const m = () => markerText(random);
    for (const onInvalidRecord of ['fail', 'skip'] as const) {
      for (const c of invalidCases(m)) {
        output.length = 0;
        const processor = createStreamProcessor({ adapter: memoryAdapter(), rules: c.rules, onInvalidRecord, maxKeysPerRecord: 2 });
        const result = await processor.process({ Records: [c.record] });
        const messages = result.records.flatMap((r) => (r.error ? [r.error.message, JSON.stringify(describeError(r.error))] : []));
        expect(messages.length, c.name).toBeGreaterThan(0);
        expectNoLeak([...messages, ...output]);
      }
    }
  });

  it.each([1, 2, 3])('failed commands on memory-backed and memcached adapters (seed %i)', async (seed) => {
    const random = prng(seed);
    const m = () => markerText(random);
    const rules: Rule[] = [{ key: (i) => `u:${String(i['pk'])}`, strategy: 'write-through' }];
    const refusing = { set: async () => Promise.reject(new Error('MemJS SET: Out of memory')), delete: async () => true, get: async () => ({ value: null }) };
    const never = { set: () => new Promise<boolean>(() => {}), delete: async () => true, get: async () => ({ value: null }) };
    for (const adapter of [failingAdapter(), memcachedAdapter({ client: refusing as never }), memcachedAdapter({ client: never as never, deadlineMs: 20 })]) {
      output.length = 0;
      const results = await adapter.execute([
        { kind: 'set', key: m(), value: m() },
        { kind: 'delete', key: m() },
      ]);
      const processor = createStreamProcessor({ adapter, rules });
      const pk = { pk: { S: m() } };
      const batch = await processor.process({ Records: [record({ ...pk, e: { S: m() } }, pk)] });
      expect(batch.batchItemFailures.length + results.filter((r) => !r.ok).length).toBeGreaterThan(0);
      const messages = results.flatMap((r) => (r.ok ? [] : [r.error.message, JSON.stringify(describeError(r.error))]));
      expectNoLeak([...messages, ...output]);
      await adapter.close();
    }
  });

  it('keeps the key as a structured field for application code', () => {
    const error = new CasContentionError('ᚠᚡᚢ', 3);
    expect(error.key).toBe('ᚠᚡᚢ');
    expect(error.message).not.toContain('ᚠᚡᚢ');
    expect(describeError(error)).toMatchObject({ name: 'CasContentionError', keyHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(JSON.stringify(describeError(error))).not.toContain('ᚠᚡᚢ');
  });
});
