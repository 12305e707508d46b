/**
 * The state one stream runner's modules share: settings, the stream calls, every shard's
 * progress, the counters, and the stop signal with the sleeps it cuts short.
 *
 * @module
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { RunnerSettings } from './options.js';
import type { StreamRunnerOptions, StreamRunnerStats, StreamsApi } from './types.js';

export interface ShardState {
  readonly id: string;
  readonly parentId: string | undefined;
  status: 'waiting' | 'reading' | 'done';
  iterator: string | undefined;
  /** Where to begin once started (or resume after an expired iterator). */
  position: 'TRIM_HORIZON' | 'LATEST';
  buffer: DynamoDBRecord[];
  /** When the oldest buffered record arrived (for the batching window). */
  bufferedSince: number | undefined;
  /** Last sequence number read, to resume after an expired iterator. */
  lastSequenceNumber: string | undefined;
  /** The tick at which the last read that found the shard drained started. */
  idleSince: number;
  /** Invocations for the records at the head of the buffer. */
  attempts: number;
  loop: Promise<void> | undefined;
}

export interface RunnerContext {
  /** As given: the handler and callbacks are called through it, as before the split. */
  readonly options: StreamRunnerOptions;
  readonly settings: RunnerSettings;
  readonly api: StreamsApi;
  readonly shards: Map<string, ShardState>;
  readonly stats: StreamRunnerStats;
  readonly signal: AbortSignal;
  /** A sleep that `stop()` cuts short, so no timer outlives the runner. */
  readonly sleep: (ms: number) => Promise<void>;
  state: 'new' | 'starting' | 'running' | 'stopped';
  /**
   * A logical clock, bumped when a read, a discovery or a `waitForIdle` call starts: comparing
   * ticks tells whether a read began after a `waitForIdle` call without trusting wall time.
   */
  tick: number;
  /** The tick at which the last completed shard discovery started. */
  discoveredSince: number;
}

export interface AbortableSleep {
  readonly sleep: (ms: number) => Promise<void>;
  /** End every pending sleep now. */
  readonly wakeAll: () => void;
}

export function createAbortableSleep(signal: AbortSignal): AbortableSleep {
  const wakers = new Set<() => void>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });
  const wakeAll = () => {
    for (const wake of [...wakers]) wake();
  };
  return { sleep, wakeAll };
}

export function emptyStats(): StreamRunnerStats {
  return { invocations: 0, recordsDelivered: 0, retries: 0, failedBatches: 0, recordsFailed: 0, shards: 0 };
}
