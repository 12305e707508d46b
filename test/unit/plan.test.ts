import { describe, expect, it } from 'vitest';
import { planCommands } from '../../src/core/plan.js';
import type { Rule } from '../../src/core/rules.js';
import { InvalidRecordError } from '../../src/errors.js';
import { insert, modify, remove } from '../helpers/records.js';

const user = { pk: 'u1', type: 'User', email: 'a@example.com', name: 'Ann', password: 'secret' };
const byId: Rule = {
  name: 'user-by-id',
  table: 'App',
  when: (i) => i['type'] === 'User',
  key: (i) => `user:${String(i['pk'])}`,
  strategy: 'write-through',
  ttlSeconds: 300,
};
const byEmail: Rule = {
  name: 'user-by-email',
  table: 'App',
  when: (i) => i['type'] === 'User',
  key: (i) => `user-by-email:${String(i['email'])}`,
  strategy: 'invalidate',
};

describe('planCommands', () => {
  describe('write-through', () => {
    it('sets the new image under the key on INSERT, with the rule TTL', () => {
      const [plan] = planCommands([insert(user)], [byId]);
      expect(plan?.error).toBeUndefined();
      expect(plan?.commands).toEqual([{ kind: 'set', key: 'user:u1', value: JSON.stringify(user), ttlSeconds: 300 }]);
    });

    it('sets the new key and deletes an old-image key that differs on MODIFY', () => {
      const rule: Rule = { key: (i) => `user-by-email:${String(i['email'])}`, strategy: 'write-through' };
      const [plan] = planCommands([modify(user, { ...user, email: 'b@example.com' })], [rule]);
      expect(plan?.commands).toEqual([
        { kind: 'delete', key: 'user-by-email:a@example.com' },
        { kind: 'set', key: 'user-by-email:b@example.com', value: JSON.stringify({ ...user, email: 'b@example.com' }) },
      ]);
    });

    it('deletes on REMOVE', () => {
      const [plan] = planCommands([remove(user)], [byId]);
      expect(plan?.commands).toEqual([{ kind: 'delete', key: 'user:u1' }]);
    });

    it('deletes the old keys when the item stops matching when()', () => {
      const [plan] = planCommands([modify(user, { ...user, type: 'Deleted' })], [byId]);
      expect(plan?.commands).toEqual([{ kind: 'delete', key: 'user:u1' }]);
    });

    it('caches only the projected attributes, so secrets never reach the cache', () => {
      const [plan] = planCommands([insert(user)], [{ ...byId, attributes: ['pk', 'name', 'missing'] }]);
      expect(plan?.commands[0]).toMatchObject({ value: '{"pk":"u1","name":"Ann"}' });
    });

    it('caches what value() returns', () => {
      const [plan] = planCommands([insert(user)], [{ ...byId, value: (i) => ({ id: i['pk'], display: String(i['name']).toUpperCase() }) }]);
      expect(plan?.commands[0]).toMatchObject({ value: '{"id":"u1","display":"ANN"}' });
    });

    it('writes every key when key() returns several', () => {
      const [plan] = planCommands(
        [insert(user)],
        [{ key: (i) => [`a:${String(i['pk'])}`, `b:${String(i['pk'])}`, `a:${String(i['pk'])}`], strategy: 'write-through' }],
      );
      expect(plan?.commands.map((c) => c.key)).toEqual(['a:u1', 'b:u1']);
    });

    it.each([
      ['a few keys', 1],
      ['many keys', 20],
    ])('with %s per image, sets each new key once and deletes each old key the new image lost once, on MODIFY', (_, count) => {
      // Each image's keys repeat: tag:0..count-1 twice, plus its own email key.
      const keysOf = (i: Record<string, unknown>) => [...Array.from({ length: count }, (_, n) => `tag:${n}`), `email:${String(i['email'])}`, 'tag:0'];
      const after = { ...user, email: 'b@example.com' };
      const [plan] = planCommands([modify(user, after)], [{ key: (i) => [...keysOf(i), ...keysOf(i)], strategy: 'write-through' }]);
      expect(plan?.commands.filter((c) => c.kind === 'delete').map((c) => c.key)).toEqual(['email:a@example.com']);
      expect(plan?.commands.filter((c) => c.kind === 'set').map((c) => c.key)).toEqual([
        ...Array.from({ length: count }, (_, n) => `tag:${n}`),
        'email:b@example.com',
      ]);
    });

    it('refuses a write-through INSERT when the stream view has no NewImage', () => {
      const [plan] = planCommands([insert(user, { view: 'KEYS_ONLY' })], [{ key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through' }]);
      expect(plan?.error).toBeInstanceOf(InvalidRecordError);
      expect(plan?.error?.message).toMatch(/NewImage.*KEYS_ONLY/);
    });
  });

  describe('invalidate', () => {
    it('deletes keys derived from both the old and the new image on MODIFY (an email change)', () => {
      const [plan] = planCommands([modify(user, { ...user, email: 'b@example.com' })], [byEmail]);
      expect(plan?.commands).toEqual([
        { kind: 'delete', key: 'user-by-email:a@example.com' },
        { kind: 'delete', key: 'user-by-email:b@example.com' },
      ]);
    });

    it('deletes on INSERT, clearing negative-cache entries', () => {
      const [plan] = planCommands([insert(user)], [byEmail]);
      expect(plan?.commands).toEqual([{ kind: 'delete', key: 'user-by-email:a@example.com' }]);
    });

    it('works from Keys alone when the key needs only key attributes (KEYS_ONLY)', () => {
      const [plan] = planCommands([remove(user, { view: 'KEYS_ONLY' })], [{ key: (i) => `user:${String(i['pk'])}`, strategy: 'invalidate' }]);
      expect(plan?.commands).toEqual([{ kind: 'delete', key: 'user:u1' }]);
    });

    it('names the rule, the attribute and the view type when the key needs what KEYS_ONLY lacks', () => {
      const [plan] = planCommands([remove(user, { view: 'KEYS_ONLY', sequenceNumber: '4242' })], [byEmail]);
      expect(plan?.error).toBeInstanceOf(InvalidRecordError);
      expect(plan?.error).toMatchObject({ sequenceNumber: '4242', rule: 'user-by-email', field: 'type' });
      expect(plan?.error?.message).toMatch(/record 4242, rule user-by-email, field type: .*KEYS_ONLY.*NEW_AND_OLD_IMAGES/);
    });

    it('errors when an email change cannot be seen because the view is NEW_IMAGE', () => {
      const rule: Rule = { name: 'by-email', key: (i) => `e:${String(i['email'])}`, strategy: 'invalidate' };
      const [plan] = planCommands([modify(user, { ...user, email: 'b@example.com' }, { view: 'NEW_IMAGE' })], [rule]);
      expect(plan?.error?.field).toBe('email');
      expect(plan?.error?.message).toMatch(/OldImage.*NEW_IMAGE/);
    });
  });

  describe('rule matching', () => {
    it('matches the table by name or RegExp against eventSourceARN, and skips other tables', () => {
      const rules: Rule[] = [
        { table: 'App', key: () => 'by-name', strategy: 'invalidate' },
        { table: /^App-(dev|prod)$/, key: () => 'by-regexp', strategy: 'invalidate' },
        { key: () => 'any', strategy: 'invalidate' },
      ];
      const plans = planCommands([insert(user), insert(user, { table: 'App-prod' }), insert(user, { table: 'Other' })], rules);
      expect(plans.map((p) => p.commands.map((c) => c.key))).toEqual([['by-name', 'any'], ['by-regexp', 'any'], ['any']]);
      expect(planCommands([insert(user, { table: 'Other' })], [rules[0] as Rule])[0]?.skipped).toBe('no-matching-rule');
    });

    it('refuses a key built from an attribute the item lacks instead of caching "undefined"', () => {
      const [plan] = planCommands([insert({ pk: 'o1', type: 'Order' })], [{ name: 'by-email', key: (i) => `e:${String(i['email'])}`, strategy: 'invalidate' }]);
      expect(plan?.error).toMatchObject({ rule: 'by-email', field: 'email' });
    });

    it('reports a key function that throws, without its message (it may hold item data)', () => {
      const [plan] = planCommands(
        [insert(user, { sequenceNumber: '77' })],
        [
          {
            name: 'boom',
            key: () => {
              throw new TypeError('secret a@example.com');
            },
            strategy: 'invalidate',
          },
        ],
      );
      expect(plan?.error).toMatchObject({ sequenceNumber: '77', rule: 'boom', field: 'key' });
      expect(plan?.error?.message).not.toContain('a@example.com');
      expect(plan?.error?.cause).toBeInstanceOf(TypeError);
    });
  });

  describe('TTL deletes', () => {
    it('applies TTL deletes by default and ignores them when told, per rule or globally', () => {
      const ttlRemove = remove(user, { ttl: true });
      expect(planCommands([ttlRemove], [byId])[0]?.commands).toEqual([{ kind: 'delete', key: 'user:u1' }]);
      expect(planCommands([ttlRemove], [byId], { ttlDeletes: 'ignore' })[0]).toMatchObject({ commands: [], skipped: 'ttl-delete-ignored' });
      expect(planCommands([ttlRemove], [{ ...byId, ttlDeletes: 'ignore' }, byEmail])[0]?.commands).toEqual([
        { kind: 'delete', key: 'user-by-email:a@example.com' },
      ]);
      // A user's own delete is never mistaken for a TTL delete.
      expect(planCommands([remove(user)], [byId], { ttlDeletes: 'ignore' })[0]?.commands).toHaveLength(1);
    });
  });

  describe('bad input', () => {
    it.each([
      ['not an object', 42, undefined],
      ['no dynamodb', { eventName: 'INSERT' }, 'dynamodb'],
      ['no SequenceNumber', { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'x' } } } }, 'dynamodb.SequenceNumber'],
      ['unknown eventName', { eventName: 'UNKNOWN_TO_SDK_VERSION', dynamodb: { SequenceNumber: '1', Keys: { pk: { S: 'x' } } } }, 'eventName'],
      ['no Keys', { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: { pk: { S: 'x' } } } }, 'dynamodb.Keys'],
      ['39-digit number', { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', Keys: { pk: { N: '1'.repeat(39) } } } }, 'dynamodb.Keys.pk'],
      ['binary that is not base64', { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', Keys: { pk: { B: 'not base64!' } } } }, 'dynamodb.Keys.pk'],
    ])('reports %s as an InvalidRecordError naming the field', (_, record, field) => {
      const [plan] = planCommands([record], [{ key: (i) => `k:${String(i['pk'])}`, strategy: 'invalidate' }]);
      expect(plan?.error).toBeInstanceOf(InvalidRecordError);
      expect(plan?.error?.field).toBe(field);
      expect(plan?.commands).toEqual([]);
    });

    // A write-through rule caches the whole new image, so all of it is validated before any rule
    // function runs (docs/codecs.md, "What is validated, and when").
    it.each([
      [
        'malformed AttributeValue',
        { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', Keys: { pk: { S: 'x' } }, NewImage: { pk: { S: 'x' }, n: { N: 'twelve' } } } },
        'dynamodb.NewImage.n',
      ],
      [
        'nested malformed value',
        { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', Keys: { pk: { S: 'x' } }, NewImage: { m: { M: { l: { L: [{ S: 1 }] } } } } } },
        'dynamodb.NewImage.m.l[0]',
      ],
    ])('reports %s in an image a write-through rule caches as an InvalidRecordError naming the field', (_, record, field) => {
      const [plan] = planCommands([record], [{ key: (i) => `k:${String(i['pk'])}`, strategy: 'write-through' }]);
      expect(plan?.error).toBeInstanceOf(InvalidRecordError);
      expect(plan?.error?.field).toBe(field);
      expect(plan?.commands).toEqual([]);
    });

    it('accepts null-padded AttributeValues as some SDKs serialize them', () => {
      const record = insert(user);
      const keys = record.dynamodb?.Keys as Record<string, unknown>;
      keys['pk'] = { S: 'u1', N: null, B: null, BOOL: null, NULL: null, M: null, L: null, SS: null, NS: null, BS: null };
      const [plan] = planCommands([record], [{ key: (i) => `user:${String(i['pk'])}`, strategy: 'invalidate' }]);
      expect(plan?.commands).toEqual([{ kind: 'delete', key: 'user:u1' }]);
    });
  });
});
