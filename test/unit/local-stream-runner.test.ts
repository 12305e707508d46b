/**
 * Stream runner semantics that DynamoDB Local cannot produce on demand (shard splits,
 * paginated DescribeStream, expired iterators), against an in-memory fake of the three calls.
 */
import type { _Record as SdkRecord } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createStreamRunner, type StreamsApi } from '../../src/local/stream-runner.js';

const streamArn = 'arn:aws:dynamodb:ddblocal:000000000000:table/App/stream/2026-01-01T00:00:00.000';

interface FakeShard {
  id: string;
  parent?: string;
  records: SdkRecord[];
  closed: boolean;
}

const rec = (seq: number): SdkRecord => ({
  eventID: `e${seq}`,
  eventName: 'INSERT',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'ddblocal',
  dynamodb: { Keys: { pk: { S: `k${seq}` } }, SequenceNumber: String(seq).padStart(21, '0'), StreamViewType: 'KEYS_ONLY' },
});

function fakeApi(shards: FakeShard[], options: { expireOnce?: string; trimmedReads?: { shard: string; at: number; times: number } } = {}) {
  const calls = { describe: 0, iterators: [] as string[] };
  let expired = false;
  let trimmed = 0;
  const api: StreamsApi = {
    async describeStream(input) {
      calls.describe++;
      // One shard per page, to exercise pagination.
      const start = input.ExclusiveStartShardId === undefined ? 0 : shards.findIndex((s) => s.id === input.ExclusiveStartShardId) + 1;
      const shard = shards[start];
      return {
        $metadata: {},
        StreamDescription: {
          Shards:
            shard === undefined
              ? []
              : [
                  {
                    ShardId: shard.id,
                    ParentShardId: shard.parent,
                    SequenceNumberRange: {
                      StartingSequenceNumber: shard.records[0]?.dynamodb?.SequenceNumber ?? '0',
                      EndingSequenceNumber: shard.closed ? (shard.records.at(-1)?.dynamodb?.SequenceNumber ?? '0') : undefined,
                    },
                  },
                ],
          LastEvaluatedShardId: start + 1 < shards.length ? shard?.id : undefined,
        },
      };
    },
    async getShardIterator(input) {
      const shard = shards.find((s) => s.id === input.ShardId);
      if (shard === undefined) throw Object.assign(new Error('no shard'), { name: 'ResourceNotFoundException' });
      let position = 0;
      if (input.ShardIteratorType === 'LATEST') position = shard.records.length;
      if (input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER') {
        position = shard.records.findIndex((r) => r.dynamodb?.SequenceNumber === input.SequenceNumber) + 1;
      }
      calls.iterators.push(`${shard.id}:${input.ShardIteratorType}`);
      return { $metadata: {}, ShardIterator: `${shard.id}|${position}` };
    },
    async getRecords(input) {
      const [id = '', at = '0'] = (input.ShardIterator ?? '').split('|');
      if (options.expireOnce === id && !expired && Number(at) > 0) {
        expired = true;
        throw Object.assign(new Error('expired'), { name: 'ExpiredIteratorException' });
      }
      const trim = options.trimmedReads;
      if (trim !== undefined && trim.shard === id && Number(at) === trim.at && trimmed < trim.times) {
        trimmed++;
        throw Object.assign(new Error('trimmed'), { name: 'TrimmedDataAccessException' });
      }
      const shard = shards.find((s) => s.id === id);
      if (shard === undefined) throw new Error(`bad iterator ${String(input.ShardIterator)}`);
      const from = Number(at);
      const records = shard.records.slice(from, from + (input.Limit ?? 1000));
      const next = from + records.length;
      const drained = next >= shard.records.length;
      return {
        $metadata: {},
        Records: records,
        NextShardIterator: shard.closed && drained ? undefined : `${id}|${next}`,
      };
    },
  };
  return { api, calls };
}

const keysOf = (seen: string[][]) => seen.flat();

describe('createStreamRunner (fake stream)', () => {
  it('drains a closed parent before reading its children, even when the child is listed first', async () => {
    const { api } = fakeApi([
      { id: 'child-b', parent: 'parent', records: [rec(6)], closed: false },
      { id: 'child-a', parent: 'parent', records: [rec(4), rec(5)], closed: false },
      { id: 'parent', parent: 'grandparent', records: [rec(1), rec(2), rec(3)], closed: true },
    ]);
    const seen: string[][] = [];
    const runner = createStreamRunner({
      api,
      streamArn,
      batchSize: 2,
      pollIntervalMs: 5,
      handler: async (event) => {
        seen.push(event.Records.map((r) => r.dynamodb?.Keys?.['pk']?.S ?? '?'));
      },
    });
    await runner.start();
    await runner.waitForIdle();
    await runner.stop();

    const all = keysOf(seen);
    expect(all.slice(0, 3)).toEqual(['k1', 'k2', 'k3']);
    expect(new Set(all.slice(3))).toEqual(new Set(['k4', 'k5', 'k6']));
    expect(all.indexOf('k4')).toBeLessThan(all.indexOf('k5'));
    // Batches never mix shards.
    expect(seen.some((batch) => batch.includes('k3') && batch.includes('k4'))).toBe(false);
    expect(runner.stats.shards).toBe(3);
  });

  it('reads every page of DescribeStream', async () => {
    const shards = Array.from({ length: 4 }, (_, i) => ({ id: `s${i}`, records: [rec(i + 1)], closed: false }));
    const { api, calls } = fakeApi(shards);
    const seen: string[][] = [];
    const runner = createStreamRunner({ api, streamArn, pollIntervalMs: 5, handler: (e) => void seen.push(e.Records.map((r) => r.eventID ?? '')) });
    await runner.start();
    await runner.waitForIdle();
    await runner.stop();
    expect(keysOf(seen).sort()).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(calls.describe).toBeGreaterThanOrEqual(4);
  });

  it('resumes after an expired iterator without losing or repeating records', async () => {
    const { api, calls } = fakeApi([{ id: 's', records: [rec(1), rec(2), rec(3)], closed: true }], { expireOnce: 's' });
    const seen: string[][] = [];
    const runner = createStreamRunner({
      api,
      streamArn,
      batchSize: 1,
      pollIntervalMs: 5,
      handler: (e) => void seen.push(e.Records.map((r) => r.eventID ?? '')),
    });
    await runner.start();
    await runner.waitForIdle();
    await runner.stop();
    expect(keysOf(seen)).toEqual(['e1', 'e2', 'e3']);
    expect(calls.iterators).toContain('s:AFTER_SEQUENCE_NUMBER');
  });

  it.each([
    { case: 'mid-shard, once', at: 1, times: 1, iterator: 's:AFTER_SEQUENCE_NUMBER' },
    { case: 'before any record, three times in a row', at: 0, times: 3, iterator: 's:TRIM_HORIZON' },
  ])('recovers from TrimmedDataAccessException on GetRecords ($case) with a new iterator, losing and repeating nothing', async ({ at, times, iterator }) => {
    // DynamoDB Local throws it on an idle iterator once another table's stream is written.
    const { api, calls } = fakeApi([{ id: 's', records: [rec(1), rec(2), rec(3)], closed: true }], { trimmedReads: { shard: 's', at, times } });
    const seen: string[][] = [];
    const errors: unknown[] = [];
    const runner = createStreamRunner({
      api,
      streamArn,
      batchSize: 1,
      pollIntervalMs: 5,
      handler: (e) => void seen.push(e.Records.map((r) => r.eventID ?? '')),
      onError: (e) => void errors.push(e),
    });
    await runner.start();
    await runner.waitForIdle();
    await runner.stop();
    expect(keysOf(seen)).toEqual(['e1', 'e2', 'e3']);
    expect(errors).toEqual([]);
    expect(calls.iterators.filter((i) => i === iterator).length).toBeGreaterThanOrEqual(at === 0 ? times + 1 : 1);
  });

  it('with LATEST skips shards that were already closed at start', async () => {
    const { api } = fakeApi([
      { id: 'old', records: [rec(1)], closed: true },
      { id: 'open', parent: 'old', records: [rec(2)], closed: false },
    ]);
    const seen: string[] = [];
    const runner = createStreamRunner({
      api,
      streamArn,
      startingPosition: 'LATEST',
      pollIntervalMs: 5,
      handler: (e) => void seen.push(...e.Records.map((r) => r.eventID ?? '')),
    });
    await runner.start();
    await runner.waitForIdle();
    await runner.stop();
    expect(seen).toEqual([]);
  });

  it('stops cleanly while start() is still discovering shards', async () => {
    const { api } = fakeApi([{ id: 's', records: [rec(1)], closed: false }]);
    const hanging: StreamsApi = {
      ...api,
      describeStream: (_input, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
    };
    const seen: string[] = [];
    const runner = createStreamRunner({ api: hanging, streamArn, handler: (e) => void seen.push(...e.Records.map((r) => r.eventID ?? '')) });
    const starting = runner.start();
    await runner.stop();
    await expect(starting).resolves.toBeUndefined();
    expect(seen).toEqual([]);
  });

  it('rejects bad options at creation, naming each option', () => {
    let caught: unknown;
    try {
      createStreamRunner({ streamArn: 'nope', handler: () => undefined, batchSize: 0, maximumRetryAttempts: -2 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const issues = (caught as ConfigError).issues.join('\n');
    expect(issues).toMatch(/streamArn/);
    expect(issues).toMatch(/batchSize/);
    expect(issues).toMatch(/maximumRetryAttempts/);
    expect(issues).toMatch(/endpoint/);
  });
});
