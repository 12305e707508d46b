import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import { convertImage } from '../../src/core/attributes.js';
import type { ChangeDecoder, StreamChange } from '../../src/core/change.js';
import { planCommands } from '../../src/core/plan.js';
import type { Rule } from '../../src/core/rules.js';
import { STRATEGIES, STRATEGY_NAMES } from '../../src/core/strategies/index.js';
import { ConfigError } from '../../src/errors.js';
import { validateConfig } from '../../src/lambda/config.js';
import { av } from '../helpers/records.js';

describe('the strategy table', () => {
  it('holds each strategy under its own name', () => {
    expect(STRATEGY_NAMES).toEqual(['invalidate', 'write-through', 'versioned', 'tags']);
    for (const name of STRATEGY_NAMES) expect(STRATEGIES[name].name).toBe(name);
  });

  it('refuses an option on a strategy that does not own it, naming the owner', () => {
    const rules: Rule[] = [{ key: () => 'k', strategy: 'invalidate', writes: 'tombstone' }];
    expect(() => validateConfig({ adapter: memoryAdapter(), rules })).toThrow("rules[0].writes: only applies to strategy 'versioned'");
  });
});

describe('validateConfig for a source', () => {
  const adapter = memoryAdapter();
  const writeThrough: Rule = { key: () => 'k', strategy: 'write-through' };
  const bySequence: Rule = { key: () => 'k', strategy: 'versioned', version: 'sequenceNumber' };

  it('accepts order-dependent rules for DynamoDB Streams, the default source', () => {
    expect(() => validateConfig({ adapter, rules: [writeThrough, bySequence] })).not.toThrow();
  });

  it('refuses write-through and sequence-number versions for Kinesis, naming each rule field', () => {
    expect(() => validateConfig({ adapter, rules: [writeThrough, bySequence] }, { source: 'kinesis' })).toThrow(ConfigError);
    expect(() => validateConfig({ adapter, rules: [writeThrough, bySequence] }, { source: 'kinesis' })).toThrow(
      /rules\[0\]\.strategy: write-through is unsafe with Kinesis Data Streams.*rules\[1\]\.version: Kinesis Data Streams records carry no DynamoDB SequenceNumber/,
    );
  });
});

describe('planCommands given a decoder', () => {
  it('plans from the normalized change the decoder produces, whatever the record looks like', () => {
    const keys = convertImage(av({ pk: 'a' }), 'Keys');
    const newImage = convertImage(av({ pk: 'a', name: 'Ann' }), 'NewImage');
    const change: StreamChange = {
      sequenceNumber: undefined,
      approximateCreationDateTime: 1_700_000_000,
      eventName: 'INSERT',
      table: 'App',
      view: 'NEW_AND_OLD_IMAGES',
      ttlDelete: false,
      images: () => ({ keys, newImage, oldImage: undefined }),
    };
    const decoder: ChangeDecoder = {
      traits: { source: 'dynamodb-streams', label: 'test', ordered: true, sequenceNumbers: false },
      decode: () => change,
    };

    const [plan] = planCommands(['opaque'], [{ table: 'App', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through' }], { decoder });

    expect(plan?.commands).toEqual([{ kind: 'set', key: 'user:a', value: JSON.stringify({ pk: 'a', name: 'Ann' }) }]);
    expect(plan?.approximateCreationDateTime).toBe(1_700_000_000);
  });
});
