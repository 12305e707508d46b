/**
 * Bad input through the handler: every malformed record is reported per `onInvalidRecord`
 * (fail: Lambda is told the record's sequence number and nothing after it runs; skip: one
 * error log line naming record and field, the rest of the batch applies). Never a throw,
 * never a silent drop. Record-level cases already pinned in plan.test.ts are exercised here
 * only where the handler adds behaviour (reporting, logging, what runs after).
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { KeyRule, Rule } from '../../src/core/rules.js';
import { InvalidRecordError } from '../../src/errors.js';
import { createStreamHandler, createStreamProcessor } from '../../src/lambda/handler.js';
import type { Logger } from '../../src/lambda/logger.js';
import { event, insert, modify, remove } from '../helpers/records.js';

const rules: Rule[] = [
  { name: 'by-id', table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through', ttlSeconds: 300 },
  { name: 'by-email', table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user-by-email:${String(i['email'])}`, strategy: 'invalidate' },
];

const user = (pk: string) => ({ pk, type: 'User', email: `${pk}@example.com`, name: `Name ${pk}` });

interface Line {
  level: string;
  message: string;
  extra: Record<string, unknown>[];
}
function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, extra });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

beforeEach(() => {
  // Metrics are on by default and go to stdout; keep the test output readable.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

/** A copy of a record whose `dynamodb` block can be edited freely. */
interface Loose {
  [field: string]: unknown;
  dynamodb: Record<string, unknown>;
}
function editable(record: DynamoDBRecord): Loose {
  return structuredClone(record) as unknown as Loose;
}

function seqOf(record: unknown): string | undefined {
  const seq = (record as { dynamodb?: { SequenceNumber?: unknown } } | null)?.dynamodb?.SequenceNumber;
  return typeof seq === 'string' ? seq : undefined;
}

interface Expectation {
  /** The field the InvalidRecordError must name. */
  field: string | undefined;
  /** The rule it must name, when the problem is rule-specific. */
  rule?: string;
  /** A fragment of the reason. */
  reason?: RegExp;
}

/**
 * Run `[good before, bad, good after]` under both policies and check the whole contract:
 * typed error naming record and field, exactly one error log, the right Lambda response, and
 * what was (not) applied.
 */
async function checkBothPolicies(bad: unknown, expected: Expectation): Promise<void> {
  const before = insert(user('before'));
  const after = insert(user('after'));
  const records = [before, bad, after];
  const badSeq = seqOf(bad);
  // Real sequence numbers are 21 to 40 digits; the handler accepts up to 128.
  const reportable = badSeq !== undefined && /^\d{1,128}$/.test(badSeq) ? badSeq : '';

  for (const policy of ['fail', 'skip'] as const) {
    const cache = memoryAdapter();
    const logger = recordingLogger();
    const processor = createStreamProcessor({ adapter: cache, rules, logger, metrics: false, onInvalidRecord: policy });
    const result = await processor.process({ Records: records });

    const error = result.records[1]?.error;
    expect(error, policy).toBeInstanceOf(InvalidRecordError);
    expect(error?.index).toBe(1);
    expect(error?.sequenceNumber).toBe(reportable === '' ? undefined : reportable);
    expect(error?.field).toBe(expected.field);
    if (expected.rule !== undefined) expect(error?.rule).toBe(expected.rule);
    if (expected.reason) expect(error?.message).toMatch(expected.reason);
    // The message names the record: its sequence number, or its position when it has none.
    expect(error?.message).toContain(reportable === '' ? 'record #1 (no SequenceNumber)' : `record ${reportable}`);

    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors, 'exactly one error line for the invalid record').toHaveLength(1);
    expect(errors[0]?.extra[0]?.['error']).toMatchObject({ name: 'InvalidRecordError', ...(expected.field === undefined ? {} : { field: expected.field }) });

    expect(await cache.get('user:before')).toBeDefined();
    if (policy === 'fail') {
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: reportable }]);
      expect(result.failedIndex).toBe(1);
      // Lambda retries from the bad record, so the records after it must not run now.
      expect(await cache.get('user:after')).toBeUndefined();
    } else {
      expect(result.batchItemFailures).toEqual([]);
      expect(await cache.get('user:after')).toBeDefined();
      expect(result.metrics.InvalidRecords).toBe(1);
    }
  }
}

describe('bad input through the handler', () => {
  describe('events that are not DynamoDB stream events', () => {
    it('fails the whole batch (empty identifier) for a Records array of another service, never throwing', async () => {
      // An SQS-shaped event: Records exist but carry no dynamodb block. Each record is invalid;
      // the first has no sequence number, so the whole batch is retried.
      const sqs = { Records: [{ messageId: 'm1', body: '{"pk":"u1"}', eventSource: 'aws:sqs' }] };
      const logger = recordingLogger();
      const handler = createStreamHandler({ adapter: memoryAdapter(), rules, logger, metrics: false });
      await expect(handler(sqs as never)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
      expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    });

    it('answers an empty batch with no failures', async () => {
      const handler = createStreamHandler({ adapter: memoryAdapter(), rules, logger: false, metrics: false });
      await expect(handler({ Records: [] })).resolves.toEqual({ batchItemFailures: [] });
    });

    it('reports a Records array holding null, numbers and arrays per record, not by crashing', async () => {
      for (const bad of [null, 42, 'text', [], [insert(user('x'))]]) {
        await checkBothPolicies(bad, { field: undefined, reason: /record is not an object/ });
      }
    });

    it('logs the event type, not the event, when Records is missing', async () => {
      const logger = recordingLogger();
      const handler = createStreamHandler({ adapter: memoryAdapter(), rules, logger, metrics: false });
      await handler({ detail: { email: 'secret@example.com' } } as never);
      expect(JSON.stringify(logger.lines)).not.toContain('secret@example.com');
      expect(logger.lines).toHaveLength(1);
    });
  });

  describe('records missing parts', () => {
    it.each([
      ['dynamodb', (r: DynamoDBRecord) => delete (r as Record<string, unknown>)['dynamodb'], 'dynamodb'],
      ['dynamodb as a string', (r: DynamoDBRecord) => ((r as Record<string, unknown>)['dynamodb'] = 'x'), 'dynamodb'],
      ['dynamodb as an array', (r: DynamoDBRecord) => ((r as Record<string, unknown>)['dynamodb'] = [r.dynamodb]), 'dynamodb'],
      ['Keys', (r: DynamoDBRecord) => delete (r.dynamodb as Record<string, unknown>)['Keys'], 'dynamodb.Keys'],
      ['Keys as an array', (r: DynamoDBRecord) => ((r.dynamodb as Record<string, unknown>)['Keys'] = [{ pk: { S: 'x' } }]), 'dynamodb.Keys'],
      ['eventName', (r: DynamoDBRecord) => delete (r as Record<string, unknown>)['eventName'], 'eventName'],
      ['eventName as a number', (r: DynamoDBRecord) => ((r as Record<string, unknown>)['eventName'] = 1), 'eventName'],
      ['NewImage as a string', (r: DynamoDBRecord) => ((r.dynamodb as Record<string, unknown>)['NewImage'] = 'pk=u1'), 'dynamodb.NewImage'],
    ])('reports a record without a usable %s', async (_, mutate, field) => {
      const bad = editable(insert(user('bad')));
      mutate(bad);
      await checkBothPolicies(bad, { field });
    });

    it('reports a write-through INSERT whose NewImage is missing, naming the view type', async () => {
      const bad = editable(insert(user('bad')));
      delete bad.dynamodb['NewImage'];
      // The rule reads `type` to decide whether it applies; only the key is known.
      await checkBothPolicies(bad, { field: 'type', rule: 'by-id', reason: /NewImage.*NEW_AND_OLD_IMAGES/ });
    });

    it('reports a MODIFY whose OldImage is missing when a key needs an old attribute', async () => {
      const bad = editable(modify(user('bad'), { ...user('bad'), email: 'new@example.com' }));
      delete bad.dynamodb['OldImage'];
      await checkBothPolicies(bad, { field: 'type', reason: /OldImage/ });
    });

    it('reports a REMOVE from a KEYS_ONLY stream when the rule needs more than keys', async () => {
      await checkBothPolicies(remove(user('bad'), { view: 'KEYS_ONLY' }), { field: 'type', reason: /KEYS_ONLY/ });
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['not decimal', '12ab'],
      ['a number', 123],
      ['too long', '9'.repeat(129)],
    ])('reports a record whose SequenceNumber is %s, with an empty identifier so the whole batch retries', async (_, seq) => {
      const bad = editable(insert(user('bad')));
      if (seq === undefined) delete bad.dynamodb['SequenceNumber'];
      else bad.dynamodb['SequenceNumber'] = seq;
      await checkBothPolicies(bad, { field: 'dynamodb.SequenceNumber' });
    });
  });

  describe('event names', () => {
    it.each(['UNKNOWN_TO_SDK_VERSION', 'insert', 'DELETE', ''])('reports eventName %j instead of guessing', async (name) => {
      const bad = editable(remove(user('bad')));
      bad['eventName'] = name;
      await checkBothPolicies(bad, { field: 'eventName' });
    });

    it('hints at normalization for DynamoDB Local TTL deletes (UNKNOWN_TO_SDK_VERSION)', async () => {
      const bad = editable(remove(user('bad')));
      bad['eventName'] = 'UNKNOWN_TO_SDK_VERSION';
      await checkBothPolicies(bad, { field: 'eventName', reason: /normalize/ });
    });
  });

  describe('malformed AttributeValues', () => {
    const withNewImageAttr = (name: string, value: unknown) => {
      const bad = editable(insert(user('bad')));
      (bad.dynamodb['NewImage'] as Record<string, unknown>)[name] = value;
      return bad;
    };

    it.each<[string, unknown, string]>([
      ['an empty AttributeValue', {}, 'dynamodb.NewImage.x'],
      ['only null padding', { S: null, N: null, BOOL: null }, 'dynamodb.NewImage.x'],
      ['two types', { S: 'a', N: '1' }, 'dynamodb.NewImage.x'],
      ['an unknown type tag', { STRING: 'a' }, 'dynamodb.NewImage.x'],
      ['a lowercase type tag (Jackson-serialized Java SDK v1)', { s: 'a' }, 'dynamodb.NewImage.x'],
      ['a bare string', 'a', 'dynamodb.NewImage.x'],
      ['null', null, 'dynamodb.NewImage'],
      ['an array', [{ S: 'a' }], 'dynamodb.NewImage.x'],
      ['S as a number', { S: 5 }, 'dynamodb.NewImage.x'],
      ['N as a number', { N: 5 }, 'dynamodb.NewImage.x'],
      ['BOOL as a string', { BOOL: 'true' }, 'dynamodb.NewImage.x'],
      ['NULL false', { NULL: false }, 'dynamodb.NewImage.x'],
      ['SS with a number', { SS: ['a', 1] }, 'dynamodb.NewImage.x[1]'],
      ['NS with a word', { NS: ['1', 'two'] }, 'dynamodb.NewImage.x[1]'],
      ['BS with non-base64', { BS: ['AAAA', '***'] }, 'dynamodb.NewImage.x[1]'],
      ['SS as a string', { SS: 'a,b' }, 'dynamodb.NewImage.x'],
      ['M as an array', { M: [] }, 'dynamodb.NewImage.x'],
      ['L as an object', { L: {} }, 'dynamodb.NewImage.x'],
      ['deep nesting with a bad leaf', { M: { a: { L: [{ M: { b: { N: '1e' } } }] } } }, 'dynamodb.NewImage.x.a[0].b'],
    ])('reports %s naming the attribute path', async (_, value, field) => {
      // `null` for an attribute is padding, so it is skipped: the "null" case instead nulls the whole image below.
      const bad = value === null ? editable(insert(user('bad'))) : withNewImageAttr('x', value);
      if (value === null) bad.dynamodb['NewImage'] = 7;
      await checkBothPolicies(bad, { field });
    });

    it('accepts null padding around the one real type ({"S":null,"N":"5",...}) and caches the number exactly', async () => {
      const cache = memoryAdapter();
      const record = editable(insert(user('pad')));
      (record.dynamodb['NewImage'] as Record<string, unknown>)['n'] = {
        S: null,
        N: '5',
        B: null,
        SS: null,
        NS: null,
        BS: null,
        M: null,
        L: null,
        NULL: null,
        BOOL: null,
      };
      const response = await createStreamHandler({ adapter: cache, rules, logger: false, metrics: false })(event(record));
      expect(response).toEqual({ batchItemFailures: [] });
      expect(JSON.parse((await cache.get('user:pad')) ?? '{}')).toMatchObject({ n: 5 });
    });

    it.each([
      ['39 significant digits', '1'.repeat(39)],
      ['an exponent past DynamoDB range', '1e126'],
      ['a magnitude below DynamoDB range', '1e-131'],
      ['NaN', 'NaN'],
      ['Infinity', 'Infinity'],
      ['hex', '0x10'],
      ['surrounding spaces', ' 5 '],
      ['an empty string', ''],
      ['a comma decimal', '1,5'],
    ])('reports a number with %s', async (_, text) => {
      await checkBothPolicies(withNewImageAttr('n', { N: text }), { field: 'dynamodb.NewImage.n', reason: /number|N must/ });
    });

    it('caches 38-digit and extreme-exponent numbers exactly (decimal strings when a double would round)', async () => {
      const cache = memoryAdapter();
      const record = editable(insert(user('num')));
      const image = record.dynamodb['NewImage'] as Record<string, unknown>;
      image['big'] = { N: '12345678901234567890123456789012345678' };
      image['tiny'] = { N: '1E-130' };
      image['huge'] = { N: '9.9999999999999999999999999999999999999E+125' };
      image['set'] = { NS: ['0.1', '99999999999999999999'] };
      await createStreamHandler({ adapter: cache, rules, logger: false, metrics: false })(event(record));
      expect(JSON.parse((await cache.get('user:num')) ?? '{}')).toMatchObject({
        big: '12345678901234567890123456789012345678',
        tiny: 1e-130, // exactly representable as the shortest double form, so a number
        huge: '9.9999999999999999999999999999999999999E+125',
        set: [0.1, '99999999999999999999'],
      });
    });

    it.each([
      ['not base64 at all', 'not base64!'],
      ['base64url alphabet', 'ab-_'],
      ['missing padding', 'QQ'],
      ['a number', 12],
      ['a plain object (a JSON-serialized Buffer)', { type: 'Buffer', data: [1, 2] }],
    ])('reports binary that is %s', async (_, value) => {
      await checkBothPolicies(withNewImageAttr('b', { B: value }), { field: 'dynamodb.NewImage.b' });
    });
  });

  describe('attribute names', () => {
    it('caches an attribute named __proto__ as data: it neither vanishes nor becomes the item prototype', async () => {
      // Attribute names are chosen by whoever writes items. JSON.parse makes "__proto__" an own
      // key of the event; copying it with plain assignment would instead set the item's prototype
      // (M value) or silently drop it (any other type), so the cache would disagree with the table.
      const json = JSON.stringify(insert(user('proto'))).replace('"NewImage":{', '"NewImage":{"__proto__":{"M":{"type":{"S":"Admin"},"x":{"S":"y"}}},');
      const record = JSON.parse(json) as DynamoDBRecord;
      const seen: unknown[] = [];
      const cache = memoryAdapter();
      const spy: Rule = {
        name: 'spy',
        key: (i) => {
          seen.push(Object.getPrototypeOf(i) === Object.prototype, i['x']);
          return 'spy';
        },
        strategy: 'invalidate',
      };
      const response = await createStreamHandler({ adapter: cache, rules: [...rules, spy], logger: false, metrics: false })(event(record));
      expect(response).toEqual({ batchItemFailures: [] });
      const cached = JSON.parse((await cache.get('user:proto')) ?? '{}') as Record<string, unknown>;
      expect(Object.keys(cached)).toContain('__proto__');
      expect(cached['__proto__']).toEqual({ type: 'Admin', x: 'y' });
      // The item the rule sees has a normal prototype and no inherited attributes.
      expect(seen).toEqual([true, undefined]);
    });

    it('keeps a string attribute named __proto__ in the cached value (lossless codec too)', async () => {
      const json = JSON.stringify(insert(user('proto'))).replace('"NewImage":{', '"NewImage":{"__proto__":{"S":"kept"},');
      const record = JSON.parse(json) as DynamoDBRecord;
      const cache = memoryAdapter();
      const lossless: Rule[] = [{ ...(rules[0] as KeyRule), codec: 'dynamodb', key: (i) => `ddb:${String(i['pk'])}` }, ...rules];
      await createStreamHandler({ adapter: cache, rules: lossless, logger: false, metrics: false })(event(record));
      expect(Object.keys(JSON.parse((await cache.get('user:proto')) ?? '{}') as object)).toContain('__proto__');
      expect((await cache.get('ddb:proto')) ?? '').toContain('"__proto__":{"S":"kept"}');
    });

    it('accepts attribute names that look like Object methods', async () => {
      const cache = memoryAdapter();
      const record = editable(insert(user('names')));
      Object.assign(record.dynamodb['NewImage'] as object, { constructor: { S: 'c' }, toString: { S: 't' }, hasOwnProperty: { N: '1' } });
      await createStreamHandler({ adapter: cache, rules, logger: false, metrics: false })(event(record));
      expect(JSON.parse((await cache.get('user:names')) ?? '{}')).toMatchObject({ constructor: 'c', toString: 't', hasOwnProperty: 1 });
    });
  });

  describe('size', () => {
    it('writes through a ~400 KB item (DynamoDB maximum) intact', async () => {
      const cache = memoryAdapter();
      const big = 'x'.repeat(399_000);
      const response = await createStreamHandler({ adapter: cache, rules, logger: false, metrics: false })(event(insert({ ...user('big'), blob: big })));
      expect(response).toEqual({ batchItemFailures: [] });
      expect((JSON.parse((await cache.get('user:big')) ?? '{}') as { blob?: string }).blob?.length).toBe(399_000);
    });

    it('processes a 6 MB event (Lambda payload maximum) of 400 KB items, with one bad record in the middle', async () => {
      const records: unknown[] = [];
      for (let i = 0; i < 15; i++) records.push(modify({ ...user(`u${i}`), blob: 'a'.repeat(190_000) }, { ...user(`u${i}`), blob: 'b'.repeat(190_000) }));
      const bad = editable(records[7] as DynamoDBRecord);
      (bad.dynamodb['NewImage'] as Record<string, unknown>)['blob'] = { B: '%'.repeat(190_000) };
      records[7] = bad;
      expect(JSON.stringify({ Records: records }).length).toBeGreaterThan(5_700_000);
      const cache = memoryAdapter();
      const result = await createStreamProcessor({ adapter: cache, rules, logger: false, metrics: false }).process({ Records: records });
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: seqOf(bad) }]);
      expect(result.records[7]?.error?.field).toBe('dynamodb.NewImage.blob');
      expect(
        cache
          .keys()
          .filter((k) => k.startsWith('user:'))
          .sort(),
      ).toEqual(['user:u0', 'user:u1', 'user:u2', 'user:u3', 'user:u4', 'user:u5', 'user:u6']);
    });
  });

  describe('keys and values a rule cannot build', () => {
    const keyRule = (key: KeyRule['key']): Rule[] => [{ name: 'k', table: 'App', key, strategy: 'invalidate' }];
    const runWith = async (ruleSet: Rule[], policy: 'fail' | 'skip' = 'fail') => {
      const cache = memoryAdapter();
      const records = [insert(user('bad')), insert(user('after'))];
      const logger = recordingLogger();
      const result = await createStreamProcessor({ adapter: cache, rules: ruleSet, logger, metrics: false, onInvalidRecord: policy }).process(
        event(...records),
      );
      return { result, cache, logger, records };
    };

    it.each<[string, KeyRule['key'], RegExp]>([
      ['an empty string', () => '', /empty or non-string/],
      ['undefined', () => undefined as unknown as string, /key must return/],
      ['null', () => null as unknown as string, /key must return/],
      ['a number', () => 42 as unknown as string, /key must return/],
      ['an array with a number', () => ['a', 5] as unknown as string[], /empty or non-string/],
      ['an object', () => ({ key: 'a' }) as unknown as string, /key must return/],
      ['a Promise', (async () => 'k') as unknown as KeyRule['key'], /key must return/],
      ['a key from a missing attribute', (i) => `k:${String(i['nope'])}`, /does not have/],
    ])('reports a key function returning %s', async (_, key, reason) => {
      const { result, cache, records } = await runWith(keyRule(key));
      expect(result.records[0]?.error).toBeInstanceOf(InvalidRecordError);
      expect(result.records[0]?.error).toMatchObject({ rule: 'k', sequenceNumber: records[0]?.dynamodb?.SequenceNumber });
      expect(result.records[0]?.error?.message).toMatch(reason);
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }]);
      expect(cache.keys()).toEqual([]);
    });

    it('accepts a real value "undefined" in a key even when the rule also looked at a missing attribute', async () => {
      // A user may be called "undefined"; the "built from a missing attribute" check must not
      // turn that item into an invalid record (an item writer could block the shard with it).
      const cache = memoryAdapter();
      const optionalAlias: Rule = {
        name: 'alias',
        table: 'App',
        key: (i) => [`user:${String(i['pk'])}`, ...(typeof i['alias'] === 'string' ? [`alias:${i['alias']}`] : [])],
        strategy: 'write-through',
      };
      const record = insert({ pk: 'undefined', type: 'User', email: 'u@example.com', name: 'n' });
      const result = await createStreamProcessor({ adapter: cache, rules: [optionalAlias], logger: false, metrics: false }).process(event(record));
      expect(result.records[0]?.error).toBeUndefined();
      expect(result.batchItemFailures).toEqual([]);
      expect(await cache.get('user:undefined')).toBeDefined();
      // The check itself still catches a key built from the missing attribute.
      const broken: Rule = { name: 'broken', table: 'App', key: (i) => `alias:${String(i['alias'])}`, strategy: 'invalidate' };
      const bad = await createStreamProcessor({ adapter: cache, rules: [broken], logger: false, metrics: false }).process(
        event(insert({ pk: 'p', type: 'User' })),
      );
      expect(bad.records[0]?.error).toMatchObject({ rule: 'broken', field: 'alias' });
    });

    it('reports a record nested deeper than any DynamoDB item (10,000 levels) instead of overflowing the stack', async () => {
      let deep: unknown = { S: 'leaf' };
      for (let i = 0; i < 10_000; i++) deep = { M: { a: deep } };
      const bad = editable(insert(user('deep')));
      (bad.dynamodb['NewImage'] as Record<string, unknown>)['deep'] = deep;
      const result = await createStreamProcessor({ adapter: memoryAdapter(), rules, logger: false, metrics: false }).process({ Records: [bad] });
      expect(result.records[0]?.error).toBeInstanceOf(InvalidRecordError);
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: seqOf(bad) }]);
    });

    it('reports when() returning a non-boolean (e.g. a Promise from an async function)', async () => {
      const { result } = await runWith([{ name: 'w', when: (async () => true) as unknown as Rule['when'], key: () => 'k', strategy: 'invalidate' }]);
      expect(result.records[0]?.error).toMatchObject({ rule: 'w', field: 'when' });
    });

    it.each<[string, Rule['value']]>([
      ['undefined', () => undefined],
      ['a function', () => () => 1],
      ['a symbol', () => Symbol('s')],
      ['a Promise (async value function)', async () => ({ a: 1 })],
      ['a BigInt', () => 10n],
      [
        'a circular object',
        () => {
          const o: Record<string, unknown> = {};
          o['self'] = o;
          return o;
        },
      ],
    ])('reports a value() returning %s instead of caching a non-string or "{}"', async (_, value) => {
      const { result, cache, records } = await runWith([{ name: 'v', table: 'App', key: (i) => `v:${String(i['pk'])}`, strategy: 'write-through', value }]);
      expect(result.records[0]?.error).toBeInstanceOf(InvalidRecordError);
      expect(result.records[0]?.error).toMatchObject({ rule: 'v' });
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }]);
      expect(cache.keys()).toEqual([]);
    });

    it('reports a custom codec that returns a non-string', async () => {
      const codec = { name: 'broken', encode: () => 42 as unknown as string, decode: (s: string) => s };
      const { result } = await runWith([{ name: 'c', key: (i) => `c:${String(i['pk'])}`, strategy: 'write-through', codec }]);
      expect(result.records[0]?.error).toMatchObject({ rule: 'c', field: 'codec' });
    });

    it('skips such a record under onInvalidRecord: skip and applies the rest', async () => {
      const { result, logger } = await runWith(
        keyRule((i) => (i['pk'] === 'bad' ? '' : `k:${String(i['pk'])}`)),
        'skip',
      );
      expect(result.batchItemFailures).toEqual([]);
      expect(result.records[1]?.commands).toEqual([{ kind: 'delete', key: 'k:after' }]);
      expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    });
  });

  describe('unicode and control characters in keys', () => {
    it.each([
      ['emoji', 'user-😀'],
      ['combining marks', 'e\u0301'],
      ['right-to-left text', 'مرحبا'],
      ['NUL', 'a\u0000b'],
      ['CRLF', 'a\r\nset evil 0 0 1\r\nx'],
      ['spaces and tabs', 'a b\tc'],
      ['a 10 KB key', 'k'.repeat(10_000)],
    ])('passes a key with %s to the adapter byte-for-byte', async (_, pk) => {
      const cache = memoryAdapter();
      const response = await createStreamHandler({ adapter: cache, rules, logger: false, metrics: false })(event(insert(user(pk))));
      expect(response).toEqual({ batchItemFailures: [] });
      expect(JSON.parse((await cache.get(`user:${pk}`)) ?? '{}')).toMatchObject({ pk });
    });

    it('keeps two keys that differ only in normalization (NFC vs NFD) distinct', async () => {
      const cache = memoryAdapter();
      await createStreamHandler({ adapter: cache, rules, logger: false, metrics: false })(event(insert(user('caf\u00e9')), insert(user('cafe\u0301'))));
      expect(cache.keys().filter((k) => k.startsWith('user:'))).toHaveLength(2);
    });
  });
});
