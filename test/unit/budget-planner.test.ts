/**
 * Budgets on the planner's work that hold without a clock: an already-normal image is not
 * copied (one tree per image, not two: docs/performance.md), and the fast paths that made
 * planning several times faster keep the slow paths' answers.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, rules } from '../../bench/lib/workload.js';
import { convertImage, defineAttribute, exactNumber } from '../../src/core/attributes.js';
import { planCommands } from '../../src/core/plan.js';

describe('planner budgets', () => {
  it('reuses an already-normal image as the normalized raw image instead of copying it', () => {
    const image = {
      id: { S: '42' },
      n: { N: '1.50' },
      ok: { BOOL: true },
      none: { NULL: true },
      tags: { SS: ['a', 'b'] },
      list: { L: [{ S: 'x' }, { M: { deep: { N: '7' } } }] },
      map: { M: { city: { S: 'Oslo' } } },
      bin: { B: 'AQI=' },
    };
    const { raw, item } = convertImage(image, 'dynamodb.NewImage');
    expect(raw).toBe(image);
    expect(item).toEqual({ id: '42', n: 1.5, ok: true, none: null, tags: ['a', 'b'], list: ['x', { deep: 7 }], map: { city: 'Oslo' }, bin: 'AQI=' });
  });

  it('copies only what needs normalizing, keeping untouched attributes shared', () => {
    const city = { S: 'Oslo' };
    const image = { a: { S: 'x', N: null }, map: { M: { city } }, bin: { B: new Uint8Array([1, 2]) } };
    const { raw } = convertImage(image, 'dynamodb.NewImage');
    expect(raw).not.toBe(image);
    expect(raw).toEqual({ a: { S: 'x' }, map: { M: { city: { S: 'Oslo' } } }, bin: { B: 'AQI=' } });
    expect((raw['map'] as { M: Record<string, unknown> }).M['city']).toBe(city);
  });

  it('keeps __proto__ an own attribute on the fast assignment path', () => {
    const target: Record<string, unknown> = {};
    defineAttribute(target, '__proto__', 'x');
    defineAttribute(target, 'constructor', 'y');
    expect(Object.keys(target)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(JSON.stringify(target)).toBe('{"__proto__":"x","constructor":"y"}');
  });

  it('gives the same numbers on the fast path as an exact decimal comparison', () => {
    for (const [text, expected] of [
      ['1.50', 1.5],
      ['-0', 0],
      ['007', 7],
      ['12345678901234567890', '12345678901234567890'],
      ['0.1', 0.1],
      ['1e3', 1000],
      ['9007199254740993', '9007199254740993'],
    ] as const) {
      expect(exactNumber(text)).toBe(expected);
    }
  });

  it('plans the benchmark batch into exactly one command per record', () => {
    const event = makeEvent(1_000);
    const plans = planCommands(event.Records, rules);
    expect(plans.every((p) => p.error === undefined && p.commands.length === 1)).toBe(true);
    const removes = event.Records.filter((r) => r.eventName === 'REMOVE').length;
    expect(plans.filter((p) => p.commands[0]?.kind === 'delete')).toHaveLength(removes);
  });
});
