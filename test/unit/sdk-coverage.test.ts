import type { GetItemCommandInput } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/core/compiled-rule.js';
import type { Rule } from '../../src/core/rules.js';
import { decideRead, storesItem } from '../../src/sdk/coverage.js';

const user: Rule = {
  name: 'users',
  table: 'App',
  when: (i) => String(i['pk']).startsWith('user#'),
  key: (i) => `user:${String(i['pk'])}`,
  strategy: 'write-through',
  codec: 'dynamodb',
};

function decide(rules: Rule[], input: Partial<GetItemCommandInput>) {
  const compiled = compileRules(rules).filter((r) => r.matchesTable('App'));
  return decideRead({ TableName: 'App', Key: { pk: { S: 'user#1' } }, ...input }, compiled.filter(storesItem), compiled.length > 0);
}

describe('decideRead (the decision table)', () => {
  it('serves a GetItem whose key the one item-storing rule computes from Key alone', () => {
    expect(decide([user], {})).toMatchObject({ kind: 'covered', key: 'user:user#1', names: undefined });
  });

  it('accepts a table ARN as TableName', () => {
    expect(decide([user], { TableName: 'arn:aws:dynamodb:eu-west-1:123456789012:table/App' })).toMatchObject({ kind: 'covered' });
  });

  it.each([
    ['consistent-read', { ConsistentRead: true }],
    ['consumed-capacity', { ReturnConsumedCapacity: 'TOTAL' as const }],
    ['projection', { ProjectionExpression: 'address.city' }],
    ['key-form', { Key: { pk: 'user#1' } as unknown as GetItemCommandInput['Key'] }],
  ])('passes through: %s', (reason, input) => {
    expect(decide([user], input)).toEqual({ kind: 'pass', reason });
  });

  it('passes through rules that do not store the item itself (value transform, json codec)', () => {
    expect(decide([{ ...user, value: (i) => i['name'] }], {})).toEqual({ kind: 'pass', reason: 'not-item' });
    expect(decide([{ ...user, codec: 'json' }], {})).toEqual({ kind: 'pass', reason: 'not-item' });
  });

  it('passes through when the key reads a non-key attribute (the planner keys-only check)', () => {
    expect(decide([{ ...user, key: (i) => `user:${String(i['email'])}` }], {})).toEqual({ kind: 'pass', reason: 'key-not-computable' });
  });

  it('passes through when two item-storing rules own the key', () => {
    expect(decide([user, { ...user, name: 'alias', key: (i) => `alias:${String(i['pk'])}` }], {})).toEqual({ kind: 'pass', reason: 'ambiguous' });
  });

  it('passes through tables without rules and keys no rule matches', () => {
    expect(decideRead({ TableName: 'Other', Key: { pk: { S: 'x' } } }, [], false)).toEqual({ kind: 'pass', reason: 'no-rule' });
    expect(decide([user], { Key: { pk: { S: 'order#1' } } })).toEqual({ kind: 'pass', reason: 'no-rule' });
  });

  it('answers top-level projections, within the rule attributes when it has them', () => {
    const input = { ProjectionExpression: '#n, email', ExpressionAttributeNames: { '#n': 'name' } };
    expect(decide([user], input)).toMatchObject({ kind: 'covered', names: ['name', 'email'] });
    expect(decide([{ ...user, attributes: ['pk', 'name', 'email'] }], input)).toMatchObject({ kind: 'covered' });
    expect(decide([{ ...user, attributes: ['pk', 'name'] }], input)).toEqual({ kind: 'pass', reason: 'projection' });
    expect(decide([{ ...user, attributes: ['pk', 'name'] }], {})).toEqual({ kind: 'pass', reason: 'projection' });
  });
});
