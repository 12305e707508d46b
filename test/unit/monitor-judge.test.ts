import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../src/core/codecs.js';
import { leaseEnvelope, tombstoneEnvelope, valueEnvelope } from '../../src/core/versioned.js';
import { defaultEquals, dueAt, judgeCached, judgeWithTable, type KeyExpectation } from '../../src/monitor/judge.js';

const equals = defaultEquals(jsonCodec);
const plain = (recordValue: string | undefined, removes = false): KeyExpectation => ({ rule: 'users', recordValue, removes });
const versioned = (version: string, recordValue: string | undefined, removes = false): KeyExpectation => ({ rule: 'users', recordValue, version, removes });

describe('judgeCached', () => {
  it('counts a key the cache does not hold as consistent', () => {
    expect(judgeCached(undefined, plain('{"v":2}'), equals)).toEqual({ kind: 'consistent' });
  });

  it('counts tombstones and leases as misses, so consistent', () => {
    expect(judgeCached(tombstoneEnvelope('5'), versioned('9', '{}'), equals).kind).toBe('consistent');
    expect(judgeCached(leaseEnvelope('5', 1, 'tok'), versioned('9', '{}'), equals).kind).toBe('consistent');
  });

  it('finds a versioned value older than the record stale without reading the table', () => {
    expect(judgeCached(valueEnvelope('8', '{"v":8}'), versioned('9', '{"v":9}'), equals)).toEqual({ kind: 'stale', reason: 'older-version' });
  });

  it('compares versions as integers of any length (sequence numbers)', () => {
    const older = '99999999999999999999';
    const newer = '100000000000000000000';
    expect(judgeCached(valueEnvelope(older, '{}'), versioned(newer, '{}'), equals).kind).toBe('stale');
    expect(judgeCached(valueEnvelope(newer, '{"x":1}'), versioned(older, '{}'), equals).kind).toBe('consistent');
  });

  it('counts a value newer than the record, or at its version, as consistent', () => {
    expect(judgeCached(valueEnvelope('10', '{"v":10}'), versioned('9', '{"v":9}'), equals).kind).toBe('consistent');
    expect(judgeCached(valueEnvelope('9', '{"v":9}'), versioned('9', '{"v":9}'), equals).kind).toBe('consistent');
  });

  it('lets the table decide a value at the version a REMOVE deleted', () => {
    expect(judgeCached(valueEnvelope('9', '{"v":9}'), versioned('9', undefined, true), equals).kind).toBe('needs-table');
  });

  it('counts what the rule stores for the record as consistent', () => {
    expect(judgeCached('{"pk":"1","v":2}', plain('{"pk":"1","v":2}'), equals).kind).toBe('consistent');
  });

  it('compares decoded values, so attribute order does not matter', () => {
    expect(judgeCached('{"v":2,"pk":"1"}', plain('{"pk":"1","v":2}'), equals).kind).toBe('consistent');
  });

  it('asks for the table when a plain value differs from the record', () => {
    expect(judgeCached('{"pk":"1","v":1}', plain('{"pk":"1","v":2}'), equals).kind).toBe('needs-table');
    expect(judgeCached('{"pk":"1","v":1}', plain(undefined, true), equals).kind).toBe('needs-table');
  });

  it('uses a user-supplied equals (a non-deterministic value transform)', () => {
    const ignoreStamp = (a: string, b: string) => JSON.parse(a).v === JSON.parse(b).v;
    expect(judgeCached('{"v":2,"at":1}', plain('{"v":2,"at":7}'), ignoreStamp).kind).toBe('consistent');
  });
});

describe('judgeWithTable', () => {
  it('counts the rule encoding of the table item as consistent', () => {
    expect(judgeWithTable('{"pk":"1","v":3}', plain('{"pk":"1","v":2}'), '{"pk":"1","v":3}', equals).kind).toBe('consistent');
  });

  it('finds a value that is neither the record nor the table stale', () => {
    expect(judgeWithTable('{"pk":"1","v":1}', plain('{"pk":"1","v":2}'), '{"pk":"1","v":3}', equals)).toEqual({
      kind: 'stale',
      reason: 'differs-from-record-and-table',
    });
  });

  it('finds a cached value of a deleted item stale', () => {
    expect(judgeWithTable('{"pk":"1","v":1}', plain(undefined, true), undefined, equals).kind).toBe('stale');
    expect(judgeWithTable(valueEnvelope('9', '{"v":9}'), versioned('9', undefined, true), undefined, equals).kind).toBe('stale');
  });

  it('still settles versioned values by version', () => {
    expect(judgeWithTable(valueEnvelope('8', '{"v":3}'), versioned('9', '{"v":9}'), '{"v":3}', equals).kind).toBe('stale');
  });
});

describe('dueAt', () => {
  it('counts the grace from the end of a whole-second creation time', () => {
    expect(dueAt(1_700_000_000, 5_000, 0)).toBe(1_700_000_001_000 + 5_000);
  });

  it('counts a fractional creation time as it is', () => {
    expect(dueAt(1_700_000_000.25, 1_000, 0)).toBe(1_700_000_000_250 + 1_000);
  });

  it('counts from the arrival of a record without a creation time', () => {
    expect(dueAt(undefined, 2_000, 10_000)).toBe(12_000);
  });
});
