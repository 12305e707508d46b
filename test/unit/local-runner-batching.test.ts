/**
 * When a shard's buffer makes a batch, and how long an idle shard pauses: the event source
 * mapping's batching rules, as pure functions of the buffer and the settings.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { consume, idlePauseMs, isBatchReady } from '../../src/local/runner/batching.js';
import type { ShardState } from '../../src/local/runner/context.js';
import { resolveSettings } from '../../src/local/runner/options.js';

const streamArn = 'arn:aws:dynamodb:ddblocal:000000000000:table/App/stream/2026-01-01T00:00:00.000';
const settings = resolveSettings({ streamArn, handler: () => undefined, batchSize: 3, maximumBatchingWindowMs: 1000, pollIntervalMs: 100 });

function shardWith(buffered: number, attempts = 0): ShardState {
  const buffer = Array.from({ length: buffered }, (_, i): DynamoDBRecord => ({ eventID: `e${i}` }));
  return {
    id: 's',
    parentId: undefined,
    status: 'reading',
    iterator: 'it',
    position: 'TRIM_HORIZON',
    buffer,
    bufferedSince: buffered > 0 ? 0 : undefined,
    lastSequenceNumber: undefined,
    idleSince: -1,
    attempts,
    loop: undefined,
  };
}

describe('isBatchReady', () => {
  it('holds a partial batch until the batching window has passed', () => {
    expect(isBatchReady(settings, shardWith(2), false, 999)).toBe(false);
    expect(isBatchReady(settings, shardWith(2), false, 1000)).toBe(true);
  });

  it('sends a full batch at once, whatever the window', () => {
    expect(isBatchReady(settings, shardWith(3), false, 0)).toBe(true);
  });

  it('sends a retry at once: the window applies to new records only', () => {
    expect(isBatchReady(settings, shardWith(2, 1), false, 0)).toBe(true);
  });

  it('sends what is left of a closed shard without waiting for the window', () => {
    expect(isBatchReady(settings, shardWith(1), true, 0)).toBe(true);
  });

  it('never invokes with an empty buffer', () => {
    expect(isBatchReady(settings, shardWith(0, 1), true, 5000)).toBe(false);
  });
});

describe('idlePauseMs', () => {
  it('pauses one poll interval with nothing buffered', () => {
    expect(idlePauseMs(settings, shardWith(0), 0)).toBe(100);
  });

  it('pauses only until the batching window ends, and at least 1 ms', () => {
    expect(idlePauseMs(settings, shardWith(1), 960)).toBe(40);
    expect(idlePauseMs(settings, shardWith(1), 1000)).toBe(1);
  });
});

describe('consume', () => {
  it('drops accepted records from the head, resets the attempts, and clears the window once empty', () => {
    const shard = shardWith(3, 2);
    consume(shard, 2);
    expect(shard.buffer.map((r) => r.eventID)).toEqual(['e2']);
    expect(shard.attempts).toBe(0);
    expect(shard.bufferedSince).toBe(0);
    consume(shard, 1);
    expect(shard.bufferedSince).toBeUndefined();
  });
});
