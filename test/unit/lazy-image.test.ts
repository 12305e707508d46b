/**
 * The planner converts an attribute only when something reads it (docs/codecs.md, "What is
 * validated, and when"): a key or `when` function sees a lazy view of the item, a write-through
 * or versioned rule that caches the new image validates all of it, a versioned rule reads its
 * version attribute. The lazy view must plan exactly what a fully converted item plans.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertImage } from '../../src/core/attributes.js';
import type { ChangeDecoder } from '../../src/core/change.js';
import { planCommands, type PlannedRecord } from '../../src/core/plan.js';
import type { AttributeMap, AttributeValue, Rule } from '../../src/core/rules.js';
import { RECORD_SOURCES } from '../../src/core/sources/index.js';
import { InvalidRecordError } from '../../src/errors.js';
import { imageArb, nameArb } from '../helpers/attribute-arbitraries.js';

type EventName = 'INSERT' | 'MODIFY' | 'REMOVE';

let sequence = 500_000_000_000_000_000_000n;

function record(eventName: EventName, images: { newImage?: AttributeMap; oldImage?: AttributeMap; keys?: AttributeMap }) {
  sequence += 100n;
  const dynamodb: Record<string, unknown> = {
    Keys: images.keys ?? { pk: { S: 'u1' } },
    SequenceNumber: String(sequence),
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  };
  if (images.newImage) dynamodb['NewImage'] = images.newImage;
  if (images.oldImage) dynamodb['OldImage'] = images.oldImage;
  return { eventName, eventSource: 'aws:dynamodb', dynamodb };
}

const good: AttributeMap = { pk: { S: 'u1' }, v: { N: '2' }, name: { S: 'Ann' } };
/** `n` is not a number DynamoDB could have written. */
const withBadN: AttributeMap = { ...good, n: { N: 'twelve' } };
const badNested: AttributeMap = { ...good, m: { M: { l: { L: [{ S: 1 } as unknown as AttributeValue] } } } };

const byPk: Rule = { name: 'by-pk', key: (i) => `user:${String(i['pk'])}`, strategy: 'invalidate' };

function planOne(raw: unknown, rules: readonly Rule[], decoder?: ChangeDecoder): PlannedRecord {
  const [plan] = planCommands([raw], rules, decoder ? { decoder } : {});
  if (plan === undefined) throw new Error('no plan');
  return plan;
}

describe('lazy attribute conversion', () => {
  describe('an invalidate rule', () => {
    it('plans a record whose malformed attributes it never reads, in both images', () => {
      const plan = planOne(record('MODIFY', { newImage: badNested, oldImage: withBadN }), [byPk]);
      expect(plan.error).toBeUndefined();
      expect(plan.commands).toEqual([{ kind: 'delete', key: 'user:u1' }]);
    });

    it('fails the record by path when its key function reads a malformed attribute, naming no rule', () => {
      const raw = record('MODIFY', { newImage: withBadN, oldImage: { ...good, n: { N: '1' } } });
      const plan = planOne(raw, [{ name: 'by-n', key: (i) => `n:${String(i['n'])}`, strategy: 'invalidate' }]);
      expect(plan.error).toBeInstanceOf(InvalidRecordError);
      expect(plan.error?.field).toBe('dynamodb.NewImage.n');
      expect(plan.error?.message).toContain('N must be a decimal number string');
      expect(plan.error?.sequenceNumber).toBe(raw.dynamodb['SequenceNumber']);
      expect(plan.error?.rule).toBeUndefined();
      expect(plan.commands).toEqual([]);
    });

    it('fails the record when when() reads a malformed nested attribute', () => {
      const plan = planOne(record('INSERT', { newImage: badNested }), [{ ...byPk, when: (i) => i['m'] !== undefined }]);
      expect(plan.error?.field).toBe('dynamodb.NewImage.m.l[0]');
    });

    it('fails the record even when the key function catches the error of the attribute it read', () => {
      const swallowing: Rule = {
        name: 'swallowing',
        key: (i) => {
          try {
            return `n:${String(i['n'])}`;
          } catch {
            return 'n:fallback';
          }
        },
        strategy: 'invalidate',
      };
      expect(planOne(record('INSERT', { newImage: withBadN }), [swallowing]).error?.field).toBe('dynamodb.NewImage.n');
    });

    it('converts every attribute once the function enumerates the item', () => {
      const plan = planOne(record('INSERT', { newImage: withBadN }), [{ ...byPk, key: (i) => `k:${Object.keys(i).length}` }]);
      expect(plan.error?.field).toBe('dynamodb.NewImage.n');
    });

    it('still refuses a key built from an attribute the item lacks', () => {
      const plan = planOne(record('INSERT', { newImage: good }), [{ ...byPk, key: (i) => `e:${String(i['email'])}` }]);
      expect(plan.error?.field).toBe('email');
    });
  });

  describe('a write-through rule', () => {
    it('validates the whole new image it caches before any rule function runs', () => {
      const plan = planOne(record('INSERT', { newImage: withBadN }), [{ ...byPk, strategy: 'write-through' }]);
      expect(plan.error?.field).toBe('dynamodb.NewImage.n');
      expect(plan.error?.rule).toBeUndefined();
    });

    it('does not validate the old image attributes it never reads', () => {
      const plan = planOne(record('MODIFY', { newImage: good, oldImage: withBadN }), [{ ...byPk, strategy: 'write-through' }]);
      expect(plan.error).toBeUndefined();
      expect(plan.commands).toEqual([{ kind: 'set', key: 'user:u1', value: '{"pk":"u1","v":2,"name":"Ann"}' }]);
    });
  });

  describe('a versioned rule that writes tombstones', () => {
    const tombstones: Rule = { ...byPk, strategy: 'versioned', version: { attribute: 'v' }, writes: 'tombstone' };

    it('reads the version attribute and the key, not the rest of the image', () => {
      const plan = planOne(record('MODIFY', { newImage: { ...withBadN, v: { N: '3' } }, oldImage: badNested }), [tombstones]);
      expect(plan.error).toBeUndefined();
      expect(plan.commands).toEqual([{ kind: 'delete-versioned', key: 'user:u1', version: '3', tombstoneTtlSeconds: 90_000 }]);
    });

    it('fails the record by path when the version attribute is malformed', () => {
      const plan = planOne(record('INSERT', { newImage: { ...good, v: { N: '1e' } } }), [tombstones]);
      expect(plan.error?.field).toBe('dynamodb.NewImage.v');
    });
  });
});

/** The built-in decoder, but with every image converted whole up front (the planner before lazy views). */
const eagerDecoder: ChangeDecoder = {
  traits: RECORD_SOURCES['dynamodb-streams'].traits,
  decode(raw) {
    const change = RECORD_SOURCES['dynamodb-streams'].decode(raw);
    const dynamodb = (raw as { dynamodb: Record<string, unknown> }).dynamodb;
    const image = (field: string) => (dynamodb[field] === undefined ? undefined : convertImage(dynamodb[field], `dynamodb.${field}`));
    return {
      ...change,
      images: () => ({
        keys: convertImage(dynamodb['Keys'], 'dynamodb.Keys'),
        newImage: change.eventName === 'REMOVE' ? undefined : image('NewImage'),
        oldImage: change.eventName === 'INSERT' ? undefined : image('OldImage'),
      }),
    };
  },
};

/** Whether every attribute of the image is valid (the generator can make numbers DynamoDB refuses). */
function valid(image: AttributeMap): boolean {
  try {
    convertImage(image, 'NewImage');
    return true;
  } catch {
    return false;
  }
}

/** Key functions that read the item the ways rules do: one attribute, several, or all of it. */
const keyArb = fc.oneof(
  nameArb.map((name) => (i: Record<string, unknown>) => `one:${JSON.stringify(i[name]) ?? 'none'}`),
  fc.tuple(nameArb, nameArb).map(
    ([a, b]) =>
      (i: Record<string, unknown>) =>
        `two:${String(i[a])}:${String(i[b])}`,
  ),
  fc.constant((i: Record<string, unknown>) => `keys:${Object.keys(i).join(',')}`),
  fc.constant((i: Record<string, unknown>) => `json:${JSON.stringify(i)}`),
  fc.constant((i: Record<string, unknown>) => `spread:${JSON.stringify({ ...i })}`),
  nameArb.map((name) => (i: Record<string, unknown>) => `in:${name in i}:${Object.hasOwn(i, name)}`),
);
const whenArb = fc.option(
  nameArb.map((name) => (i: Record<string, unknown>) => i[name] !== undefined),
  { nil: undefined },
);
const ruleArb = fc.tuple(fc.constantFrom('invalidate', 'write-through', 'versioned', 'tombstone'), keyArb, whenArb).map(([strategy, key, when]): Rule => {
  const common = { name: 'r', key, ...(when ? { when } : {}) };
  if (strategy === 'versioned') return { ...common, strategy, version: 'sequenceNumber' };
  if (strategy === 'tombstone') return { ...common, strategy: 'versioned', version: 'sequenceNumber', writes: 'tombstone' };
  return { ...common, strategy };
});
const recordArb = fc
  .tuple(fc.constantFrom<EventName>('INSERT', 'MODIFY', 'REMOVE'), imageArb, imageArb)
  .filter(([, a, b]) => valid(a) && valid(b))
  .map(([eventName, a, b]) => record(eventName, { newImage: eventName === 'REMOVE' ? undefined : a, oldImage: eventName === 'INSERT' ? undefined : b }));

/** What a plan says, comparable across runs (errors by class, field, rule and message). */
function outcome(plan: PlannedRecord) {
  const { error, ...rest } = plan;
  return { ...rest, error: error && { name: error.name, field: error.field, rule: error.rule, message: error.message } };
}

describe('the lazy item view', () => {
  it('plans the same commands and errors as fully converted images, for random images and rules (1,000 cases)', () => {
    fc.assert(
      fc.property(recordArb, fc.array(ruleArb, { minLength: 1, maxLength: 3 }), (raw, rules) => {
        expect(outcome(planOne(raw, rules))).toEqual(outcome(planOne(raw, rules, eagerDecoder)));
      }),
      { numRuns: 1_000 },
    );
  });
});
