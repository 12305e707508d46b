/**
 * Hostile DynamoDB Streams records: the shapes an adversary (or a buggy writer) can put in an
 * item of up to 400 KB, DynamoDB's item limit, to make planning slow. Shared by
 * `bench/hostile.ts` and `test/unit/hostile-input.test.ts`, so the benchmark measures exactly
 * what the test bounds.
 *
 * @module
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { AttributeMap, AttributeValue, Rule } from '../../src/core/rules.js';

export const HOSTILE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/App/stream/2026-01-01T00:00:00.000';

/** DynamoDB's item size limit. */
export const ITEM_LIMIT_BYTES = 400 * 1024;

/** A record whose new image is `pk` plus the hostile attributes. */
export function hostileRecord(attributes: AttributeMap, sequenceNumber = '100'): DynamoDBRecord {
  return {
    eventID: `evt-${sequenceNumber}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    eventSourceARN: HOSTILE_ARN,
    dynamodb: {
      SequenceNumber: sequenceNumber,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      Keys: { pk: { S: 'hostile' } },
      NewImage: { pk: { S: 'hostile' }, ...attributes },
    },
  } as DynamoDBRecord;
}

function nested(depth: number): AttributeValue {
  let value: AttributeValue = { S: 'x' };
  for (let i = 0; i < depth; i++) value = { M: { a: value } };
  return value;
}

/**
 * Each hostile shape at about `bytes` bytes of attribute text. Every shape is either rejected
 * (an invalid number, base64 or nesting) or planned; none may take more than linear time.
 */
export const HOSTILE_SHAPES: Readonly<Record<string, (bytes: number) => AttributeMap>> = {
  'digits then a letter': (n) => ({ n: { N: `${'1'.repeat(n)}a` } }),
  'digits, dot, digits, bare exponent': (n) => ({ n: { N: `${'1'.repeat(n / 2)}.${'1'.repeat(n / 2)}e` } }),
  'many signs and dots': (n) => ({ n: { N: '+.'.repeat(n / 2) } }),
  'zeros between two ones': (n) => ({ n: { N: `1${'0'.repeat(n)}1` } }),
  'trailing zeros (out of range)': (n) => ({ n: { N: `1${'0'.repeat(n)}` } }),
  'leading zeros after a point': (n) => ({ n: { N: `0.${'0'.repeat(n)}1` } }),
  'number set of near-misses': (n) => ({ ns: { NS: Array.from({ length: n / 8 }, () => '1111111a') } }),
  'base64 with a bad last byte': (n) => ({ b: { B: `${'A'.repeat(n)}!` } }),
  'base64 with misplaced padding': (n) => ({ b: { B: `${'AA=='.repeat(n / 4)}A` } }),
  'many attributes': (n) => Object.fromEntries(Array.from({ length: n / 16 }, (_, i) => [`a${i}`, { N: String(i) }])),
  'long list': (n) => ({ l: { L: Array.from({ length: n / 8 }, (_, i) => ({ N: String(i) })) } }),
  'deep nesting': (n) => ({ deep: nested(Math.floor(n / 12)) }),
  'string of undefined': (n) => ({ s: { S: 'undefined'.repeat(n / 9) } }),
};

/** The write-through rule the hostile records are planned with. */
export const HOSTILE_RULES: readonly Rule[] = [{ key: (item) => `hostile:${String(item['pk'])}`, strategy: 'write-through', codec: 'dynamodb' }];

/** A rule whose `key` fans one record out to `count` keys. */
export function fanOutRule(count: number): Rule {
  const keys = Array.from({ length: count }, (_, i) => `fan:${i}`);
  return { key: () => keys, strategy: 'invalidate' };
}
