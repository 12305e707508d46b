import { describe, expect, it } from 'vitest';
import { fanOutRule, HOSTILE_RULES, HOSTILE_SHAPES, hostileRecord, ITEM_LIMIT_BYTES } from '../../bench/lib/hostile.js';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import { convertImage } from '../../src/core/attributes.js';
import { dynamodbCodec, jsonCodec } from '../../src/core/codecs.js';
import { DEFAULT_MAX_KEYS_PER_RECORD, planCommands } from '../../src/core/plan.js';
import type { AttributeMap, AttributeValue, Rule } from '../../src/core/rules.js';
import { ConfigError } from '../../src/errors.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { createCacheReader } from '../../src/reader/index.js';

/** CPU ms of the fastest of `runs` runs: the least disturbed by other processes on the machine. */
function bestCpuMs(run: () => void, runs = 5): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

function planOne(attributes: AttributeMap, rules: readonly Rule[] = HOSTILE_RULES) {
  const [plan] = planCommands([hostileRecord(attributes)], rules);
  if (plan === undefined) throw new Error('no plan');
  return plan;
}

describe('hostile input', () => {
  describe.each(Object.entries(HOSTILE_SHAPES))('%s', (_name, shape) => {
    it('is planned or rejected with a named field at 400 KB, never an unexpected error', () => {
      const plan = planOne(shape(ITEM_LIMIT_BYTES));
      if (plan.error) {
        expect(plan.error.field).toMatch(/^dynamodb\.NewImage\./);
        expect(plan.error.message).not.toMatch(/unexpected error|call stack/);
      } else {
        expect(plan.commands).toHaveLength(1);
      }
    });

    it('costs no more at 10 times the size than 10 runs at the size (linear, not quadratic)', () => {
      const small = shape(ITEM_LIMIT_BYTES / 10);
      const large = shape(ITEM_LIMIT_BYTES);
      // Warm up so the first measurement does not pay for compilation.
      planOne(small);
      const tenSmall = bestCpuMs(() => {
        for (let i = 0; i < 10; i++) planOne(small);
      });
      // The floor keeps shapes refused in microseconds from comparing timer noise; quadratic work
      // at 40 KB takes far longer than 1 ms.
      const ratio = bestCpuMs(() => planOne(large)) / Math.max(tenSmall, 1);
      // Linear work gives about 1 (less when the input is refused early); quadratic gives about
      // 10. The slack absorbs GC and a busy machine.
      expect(ratio, `CPU of 1 run at 400 KB / 10 runs at 40 KB`).toBeLessThan(6);
    });
  });

  it('rejects a 40,000-digit number followed by a letter by name, as an invalid N', () => {
    const plan = planOne({ n: { N: `${'1'.repeat(40_000)}a` } });
    expect(plan.error?.message).toContain('N must be a decimal number string');
    expect(plan.error?.field).toBe('dynamodb.NewImage.n');
  });

  it('still accepts every number shape DynamoDB writes', () => {
    for (const n of [
      '0',
      '-1',
      '+2',
      '1.',
      '.5',
      '1.5e3',
      '1E-130',
      '9.9999999999999999999999999999999999999E+125',
      `0.${'0'.repeat(100)}1`,
      `${'0'.repeat(1000)}1`,
    ]) {
      expect(planOne({ n: { N: n } }).error, n).toBeUndefined();
    }
    for (const n of ['', '.', '-', '1e', '1e+', 'e5', '1.2.3', '١٢', '0x10', ' 1', 'Infinity', '1E+126', '1E-131', `1${'1'.repeat(38)}`]) {
      expect(planOne({ n: { N: n } }).error?.field, n).toBe('dynamodb.NewImage.n');
    }
  });

  it('accepts 32 levels of nesting and rejects deeper input by path, not by overflowing the stack', () => {
    const nest = (depth: number): AttributeValue => {
      let value: AttributeValue = { S: 'x' };
      for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { M: { a: value } } : { L: [value] };
      return value;
    };
    expect(planOne({ deep: nest(32) }).error).toBeUndefined();
    expect(planOne({ deep: nest(33) }).error?.message).toContain('nested more than 32 levels deep');
    expect(planOne({ deep: nest(100_000) }).error?.message).toContain('nested more than 32 levels deep');
  });
});

describe('fan-out', () => {
  it('plans a rule that returns 130,000 keys for one record without overflowing the stack', () => {
    const [plan] = planCommands([hostileRecord({})], [fanOutRule(130_000)], { maxKeysPerRecord: 200_000 });
    expect(plan?.error).toBeUndefined();
    expect(plan?.commands).toHaveLength(130_000);
  });

  it(`fails a record above maxKeysPerRecord (default ${DEFAULT_MAX_KEYS_PER_RECORD}) naming the rule and the count`, () => {
    const [plan] = planCommands([hostileRecord({})], [{ ...fanOutRule(130_000), name: 'fan' }]);
    expect(plan?.commands).toHaveLength(0);
    expect(plan?.error?.rule).toBe('fan');
    expect(plan?.error?.message).toContain('130000 cache keys');
    expect(plan?.error?.message).toContain(`maxKeysPerRecord (${DEFAULT_MAX_KEYS_PER_RECORD})`);
  });

  it('counts keys over all rules of a record', () => {
    const [plan] = planCommands([hostileRecord({})], [fanOutRule(6), { key: () => ['a', 'b', 'c', 'd', 'e'], strategy: 'invalidate', name: 'second' }], {
      maxKeysPerRecord: 10,
    });
    expect(plan?.error?.rule).toBe('second');
    expect(plan?.error?.message).toContain('11 cache keys');
  });

  it('applies 130,000 commands of one record through the handler and reports success', async () => {
    const cache = memoryAdapter();
    const processor = createStreamProcessor({
      adapter: cache,
      rules: [{ key: (_i, ctx) => Array.from({ length: 130_000 }, (_, k) => `fan:${ctx.table}:${k}`), strategy: 'write-through' }],
      logger: false,
      metrics: false,
      maxKeysPerRecord: 130_000,
    });
    const result = await processor.process({ Records: [hostileRecord({})] });
    expect(result.batchItemFailures).toEqual([]);
    expect(await cache.get('fan:App:0')).toBe('{"pk":"hostile"}');
    expect(await cache.get('fan:App:129999')).toBe('{"pk":"hostile"}');
  });

  it.each([0, -1, 1.5, '100'])('refuses maxKeysPerRecord %j at creation', (value) => {
    expect(() => createStreamProcessor({ adapter: memoryAdapter(), rules: HOSTILE_RULES, maxKeysPerRecord: value as number })).toThrow(ConfigError);
    expect(() => createStreamProcessor({ adapter: memoryAdapter(), rules: HOSTILE_RULES, maxKeysPerRecord: value as number })).toThrow(/maxKeysPerRecord/);
  });
});

describe('attributes named __proto__, constructor and prototype', () => {
  const attributes = JSON.parse(
    '{"__proto__":{"M":{"__proto__":{"S":"p"},"polluted":{"S":"yes"}}},"constructor":{"M":{"name":{"S":"Set"}}},"prototype":{"L":[{"M":{"__proto__":{"N":"1"}}}]}}',
  ) as AttributeMap;

  function expectNoPollution(): void {
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  }

  it('are own attributes of the item rules see', () => {
    const { item } = convertImage(attributes, 'NewImage');
    expect(Object.keys(item)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expectNoPollution();
  });

  it.each([
    ['json', false],
    ['json', true],
    ['dynamodb', false],
    ['dynamodb', true],
  ] as const)('round-trip through the %s codec (value() %s) and key functions', (codec, transformed) => {
    const rule: Rule = {
      key: (item) => `k:${Object.keys(item).join(',')}:${JSON.stringify(item['__proto__'])}`,
      strategy: 'write-through',
      codec,
      ...(transformed ? { value: (item) => item } : {}),
    };
    const plan = planOne(attributes, [rule]);
    expect(plan.error).toBeUndefined();
    const [command] = plan.commands;
    expect(command?.key).toBe('k:pk,__proto__,constructor,prototype:{"__proto__":"p","polluted":"yes"}');
    const stored = command !== undefined && 'value' in command ? command.value : '';
    const decoded = (codec === 'json' ? jsonCodec : dynamodbCodec).decode(stored) as Record<string, unknown>;
    expect(Object.keys(decoded)).toEqual(['pk', '__proto__', 'constructor', 'prototype']);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    const proto = decoded['__proto__'] as Record<string, unknown>;
    expect(Object.keys(proto)).toEqual(['__proto__', 'polluted']);
    expect(String(proto['__proto__'])).toBe('p');
    expect(decoded['constructor']).toEqual({ name: 'Set' });
    const list = decoded['prototype'] as Record<string, unknown>[];
    expect(Object.keys(list[0] ?? {})).toEqual(['__proto__']);
    expectNoPollution();
  });

  it.each(['json', 'dynamodb'] as const)('round-trip through the reader with the %s codec', async (codec) => {
    const cache = memoryAdapter();
    const processor = createStreamProcessor({
      adapter: cache,
      rules: [{ key: () => 'item', strategy: 'write-through', codec }],
      logger: false,
      metrics: false,
    });
    expect((await processor.process({ Records: [hostileRecord(attributes)] })).batchItemFailures).toEqual([]);
    const reader = createCacheReader({ adapter: cache, codec });
    const got = (await reader.get('item')) as Record<string, unknown>;
    expect(Object.keys(got)).toEqual(['pk', '__proto__', 'constructor', 'prototype']);
    expect(Object.keys(got['__proto__'] as object)).toEqual(['__proto__', 'polluted']);
    expectNoPollution();
  });
});
