/**
 * A local stand-in for Lambda's DynamoDB Streams event source mapping, for development and
 * tests: it reads every shard of a stream (DynamoDB Local or any endpoint you point it at) and
 * invokes a Lambda-style handler with the same event shape and the same batch, ordering and
 * retry semantics. Production runs on Lambda's event source mapping, not on this.
 *
 * @module
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DescribeStreamCommandInput,
  type DescribeStreamCommandOutput,
  type GetRecordsCommandInput,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandInput,
  type GetShardIteratorCommandOutput,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ConfigError } from '../errors.js';
import { interpretBatchResponse, type BatchOutcome } from './batch-response.js';
import { localClientConfig } from './dynamodb-local.js';
import { RunnerTimeoutError, StreamReadError } from './errors.js';
import { toLambdaRecord } from './normalize.js';

/** Any Lambda-style DynamoDB Streams handler, e.g. the one `createStreamHandler` returns. */
export type StreamEventHandler = (
  event: DynamoDBStreamEvent,
) => Promise<DynamoDBBatchResponse | void | undefined> | DynamoDBBatchResponse | void | undefined;

/** The three DynamoDB Streams calls the runner makes. The SDK client is wrapped to this. */
export interface StreamsApi {
  describeStream(input: DescribeStreamCommandInput, signal: AbortSignal): Promise<DescribeStreamCommandOutput>;
  getShardIterator(input: GetShardIteratorCommandInput, signal: AbortSignal): Promise<GetShardIteratorCommandOutput>;
  getRecords(input: GetRecordsCommandInput, signal: AbortSignal): Promise<GetRecordsCommandOutput>;
}

/** A batch the runner gave up on, passed to `onFailure` (like an on-failure destination). */
export interface FailedBatch {
  readonly streamArn: string;
  readonly shardId: string;
  /** The records not processed: from the reported checkpoint (or the batch start) to its end. */
  readonly records: readonly DynamoDBRecord[];
  /** Invocations made for these records. */
  readonly attempts: number;
  /** Why the last attempt failed. */
  readonly reason: string;
  /** What the handler threw on the last attempt, if it threw. */
  readonly error?: unknown;
}

/** Options for {@link createStreamRunner}. */
export interface StreamRunnerOptions {
  /** The stream to read: the table's `LatestStreamArn`. */
  readonly streamArn: string;
  /** Invoked with `{ Records }` like Lambda would; may return `{ batchItemFailures }`. */
  readonly handler: StreamEventHandler;
  /**
   * Where to read from: a DynamoDB Streams `client` you own (left open on stop), or an `endpoint`
   * (the runner creates a client with dummy local credentials and destroys it on stop).
   */
  readonly client?: DynamoDBStreamsClient;
  /** See `client`. */
  readonly endpoint?: string;
  /** Test seam: the three stream calls. Takes precedence over `client`/`endpoint`. */
  readonly api?: StreamsApi;
  /**
   * Where to start in shards that are open when `start()` runs. `TRIM_HORIZON` (default here; Lambda
   * requires you to choose) reads everything still in the stream; `LATEST` only what is written
   * after `start()` resolves. Shards found later are always read from their beginning.
   */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Most records per invocation. Default 100, like Lambda; 1 to 10 000. */
  readonly batchSize?: number;
  /** How long to gather records before invoking with a partial batch, in ms. Default 0. */
  readonly maximumBatchingWindowMs?: number;
  /**
   * Retries of a failing batch before it is handed to `onFailure` and skipped. Default -1: retry
   * forever, as Lambda does by default (the shard stays blocked).
   */
  readonly maximumRetryAttempts?: number;
  /** Receives each batch that ran out of retries. */
  readonly onFailure?: (failure: FailedBatch) => void | Promise<void>;
  /** Receives stream read errors (the runner retries them). Default: `console.error`. */
  readonly onError?: (error: unknown) => void;
  /** Pause between reads of a shard with nothing new, in ms. Default 100. */
  readonly pollIntervalMs?: number;
  /** How often to look for new shards, in ms. Default 1000. */
  readonly shardDiscoveryIntervalMs?: number;
  /** First retry delay for a failed batch, doubled each retry up to 5 s. Default 100. */
  readonly retryDelayMs?: number;
  /** `awsRegion` to put on records. Default: what the stream reports (`ddblocal` locally). */
  readonly awsRegion?: string;
}

/** Counters, for tests and the demo. */
export interface StreamRunnerStats {
  /** Handler invocations, including retries. */
  invocations: number;
  /** Records the handler accepted (counted once). */
  recordsDelivered: number;
  /** Invocations that were retries. */
  retries: number;
  /** Batches handed to `onFailure`. */
  failedBatches: number;
  /** Records handed to `onFailure`. */
  recordsFailed: number;
  /** Shards seen. */
  shards: number;
}

/** A running (or stopped) stream runner. */
export interface StreamRunner {
  /** Find the shards, pin the starting positions, and start reading. Resolves once reading. */
  start(): Promise<void>;
  /** Stop reading, let an in-flight invocation finish, clear every timer. Idempotent. */
  stop(): Promise<void>;
  /**
   * Resolve once every record written before this call has been delivered (or handed to
   * `onFailure`): each shard has come back empty from a read that started after the call, with
   * nothing buffered or in flight. Rejects with {@link RunnerTimeoutError} after `timeoutMs`
   * (default 30 000). DynamoDB Local makes a write readable from the stream before the write
   * returns, which is what makes this exact; against DynamoDB it is only a good guess.
   */
  waitForIdle(options?: { timeoutMs?: number }): Promise<void>;
  /** Counters so far. */
  readonly stats: Readonly<StreamRunnerStats>;
}

interface ShardState {
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

const MAX_RETRY_DELAY_MS = 5000;

function sdkApi(client: DynamoDBStreamsClient): StreamsApi {
  return {
    describeStream: (input, abortSignal) => client.send(new DescribeStreamCommand(input), { abortSignal }),
    getShardIterator: (input, abortSignal) => client.send(new GetShardIteratorCommand(input), { abortSignal }),
    getRecords: (input, abortSignal) => client.send(new GetRecordsCommand(input), { abortSignal }),
  };
}

function validate(options: StreamRunnerOptions): string[] {
  const issues: string[] = [];
  const intIn = (name: string, value: number | undefined, min: number, max: number) => {
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
      issues.push(`${name}: must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
  };
  if (typeof options.streamArn !== 'string' || !options.streamArn.includes(':table/')) {
    issues.push(`streamArn: must be a DynamoDB stream ARN (the table's LatestStreamArn), got ${JSON.stringify(options.streamArn)}`);
  }
  if (typeof options.handler !== 'function') issues.push('handler: must be a function');
  if (options.api === undefined && options.client === undefined && options.endpoint === undefined) {
    issues.push('endpoint: pass `endpoint` (e.g. the one startDynamoDbLocal returns) or a DynamoDB Streams `client`');
  }
  if (options.client !== undefined && options.endpoint !== undefined) {
    issues.push('endpoint: pass either `client` or `endpoint`, not both');
  }
  intIn('batchSize', options.batchSize, 1, 10_000);
  intIn('maximumBatchingWindowMs', options.maximumBatchingWindowMs, 0, 300_000);
  intIn('maximumRetryAttempts', options.maximumRetryAttempts, -1, 10_000);
  intIn('pollIntervalMs', options.pollIntervalMs, 1, 60_000);
  intIn('shardDiscoveryIntervalMs', options.shardDiscoveryIntervalMs, 1, 600_000);
  intIn('retryDelayMs', options.retryDelayMs, 0, 60_000);
  if (options.startingPosition !== undefined && !['TRIM_HORIZON', 'LATEST'].includes(options.startingPosition)) {
    issues.push(`startingPosition: must be TRIM_HORIZON or LATEST, got ${JSON.stringify(options.startingPosition)}`);
  }
  return issues;
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string'
    ? error.name
    : undefined;
}

/**
 * Create a runner that feeds a DynamoDB stream to a Lambda-style handler, with the event source
 * mapping's semantics: batches of up to `batchSize` records from one shard, one batch in flight
 * per shard, parents drained before their children, a thrown error retries the whole batch, a
 * reported `itemIdentifier` retries from that record, and after `maximumRetryAttempts` the batch
 * goes to `onFailure` and the shard moves on.
 *
 * For development and tests. In production the handler runs on Lambda's event source mapping.
 *
 * @example
 * ```ts
 * const db = await startDynamoDbLocal();
 * // ... create a table with a stream, note its LatestStreamArn
 * const runner = createStreamRunner({ endpoint: db.endpoint, streamArn, handler });
 * await runner.start();
 * await client.send(new PutItemCommand({ TableName: 'App', Item: { pk: { S: 'u1' } } }));
 * await runner.waitForIdle(); // the handler has seen the put
 * await runner.stop();
 * await db.stop();
 * ```
 */
export function createStreamRunner(options: StreamRunnerOptions): StreamRunner {
  const issues = validate(options);
  if (issues.length > 0) throw new ConfigError(issues.map((issue) => `createStreamRunner ${issue}`));

  const streamArn = options.streamArn;
  const batchSize = options.batchSize ?? 100;
  const windowMs = options.maximumBatchingWindowMs ?? 0;
  const maxRetries = options.maximumRetryAttempts ?? -1;
  const pollMs = options.pollIntervalMs ?? 100;
  const discoveryMs = options.shardDiscoveryIntervalMs ?? 1000;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const onError = options.onError ?? ((error: unknown) => console.error('[stream-runner]', error));

  const ownedClient =
    options.api === undefined && options.client === undefined && options.endpoint !== undefined
      ? new DynamoDBStreamsClient(localClientConfig(options.endpoint))
      : undefined;
  const sdkClient = options.client ?? ownedClient;
  let api: StreamsApi;
  if (options.api !== undefined) api = options.api;
  else if (sdkClient !== undefined) api = sdkApi(sdkClient);
  else throw new ConfigError(['createStreamRunner endpoint: pass `endpoint` or a DynamoDB Streams `client`']);

  const shards = new Map<string, ShardState>();
  const stats: StreamRunnerStats = {
    invocations: 0,
    recordsDelivered: 0,
    retries: 0,
    failedBatches: 0,
    recordsFailed: 0,
    shards: 0,
  };
  const abort = new AbortController();
  let state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  let tick = 0;
  /** The tick at which the last completed shard discovery started. */
  let discoveredSince = -1;
  let discoveryLoop: Promise<void> | undefined;
  const wakers = new Set<() => void>();

  /** A sleep that `stop()` cuts short, so no timer outlives the runner. */
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (abort.signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });

  async function describeAll(): Promise<NonNullable<NonNullable<DescribeStreamCommandOutput['StreamDescription']>['Shards']>> {
    const all: NonNullable<NonNullable<DescribeStreamCommandOutput['StreamDescription']>['Shards']> = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await api.describeStream(
        { StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId },
        abort.signal,
      );
      all.push(...(page.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
    return all;
  }

  async function discover(initial: boolean): Promise<void> {
    const startedAt = ++tick;
    const described = await describeAll();
    for (const shard of described) {
      const id = shard.ShardId;
      if (id === undefined || shards.has(id)) continue;
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      const latest = initial && options.startingPosition === 'LATEST';
      shards.set(id, {
        id,
        parentId: shard.ParentShardId,
        // With LATEST, shards already closed at start hold only old records: skip them.
        status: latest && closed ? 'done' : 'waiting',
        iterator: undefined,
        position: latest ? 'LATEST' : 'TRIM_HORIZON',
        buffer: [],
        bufferedSince: undefined,
        lastSequenceNumber: undefined,
        idleSince: -1,
        attempts: 0,
        loop: undefined,
      });
      stats.shards++;
    }
    if (initial && options.startingPosition === 'LATEST') {
      // Pin LATEST now, so whatever is written after start() resolves is delivered.
      await Promise.all(
        [...shards.values()]
          .filter((shard) => shard.status === 'waiting')
          .map(async (shard) => {
            shard.iterator = await freshIterator(shard);
          }),
      );
    }
    discoveredSince = startedAt;
    schedule();
  }

  /** Start every waiting shard whose parent is drained (or unknown: trimmed from the stream). */
  function schedule(): void {
    if (state !== 'running' && state !== 'starting') return;
    for (const shard of shards.values()) {
      if (shard.status !== 'waiting') continue;
      const parent = shard.parentId === undefined ? undefined : shards.get(shard.parentId);
      if (parent !== undefined && parent.status !== 'done') continue;
      shard.status = 'reading';
      shard.loop = readShard(shard).catch((error: unknown) => {
        if (!abort.signal.aborted) onError(error);
      });
    }
  }

  async function freshIterator(shard: ShardState): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput =
      shard.lastSequenceNumber !== undefined
        ? {
            StreamArn: streamArn,
            ShardId: shard.id,
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            SequenceNumber: shard.lastSequenceNumber,
          }
        : { StreamArn: streamArn, ShardId: shard.id, ShardIteratorType: shard.position };
    return (await api.getShardIterator(input, abort.signal)).ShardIterator;
  }

  async function readShard(shard: ShardState): Promise<void> {
    let readFailures = 0;
    if (shard.iterator === undefined) {
      for (;;) {
        if (abort.signal.aborted) return;
        try {
          shard.iterator = await freshIterator(shard);
          break;
        } catch (error) {
          if (abort.signal.aborted) return;
          if (errorName(error) === 'ResourceNotFoundException' || errorName(error) === 'TrimmedDataAccessException') {
            // The shard aged out of the stream: nothing left to read in it.
            finish(shard);
            return;
          }
          onError(new StreamReadError(`GetShardIterator failed for shard ${shard.id}`, { cause: error }));
          await sleep(Math.min(MAX_RETRY_DELAY_MS, pollMs * 2 ** Math.min(++readFailures, 6)));
        }
      }
    }
    let closed = shard.iterator === undefined;

    while (!abort.signal.aborted) {
      let readNothing = false;
      if (!closed && shard.buffer.length < batchSize && shard.iterator !== undefined) {
        const readStarted = ++tick;
        let output: GetRecordsCommandOutput;
        try {
          output = await api.getRecords(
            { ShardIterator: shard.iterator, Limit: Math.min(1000, batchSize - shard.buffer.length) },
            abort.signal,
          );
          readFailures = 0;
        } catch (error) {
          if (abort.signal.aborted) return;
          if (errorName(error) === 'ExpiredIteratorException') {
            // Iterators live 15 minutes; a long pause (a debugger, a laptop lid) expires them.
            try {
              shard.iterator = await freshIterator(shard);
            } catch (inner) {
              if (!abort.signal.aborted) onError(new StreamReadError(`GetShardIterator failed for shard ${shard.id}`, { cause: inner }));
            }
            continue;
          }
          onError(new StreamReadError(`GetRecords failed for shard ${shard.id}`, { cause: error }));
          await sleep(Math.min(MAX_RETRY_DELAY_MS, pollMs * 2 ** Math.min(++readFailures, 6)));
          continue;
        }
        const records: DynamoDBRecord[] = [];
        for (const record of output.Records ?? []) {
          shard.lastSequenceNumber = record.dynamodb?.SequenceNumber ?? shard.lastSequenceNumber;
          try {
            records.push(toLambdaRecord(record, { streamArn, awsRegion: options.awsRegion }));
          } catch (error) {
            onError(error);
          }
        }
        if (records.length > 0) {
          shard.bufferedSince ??= Date.now();
          shard.buffer.push(...records);
        } else {
          readNothing = true;
        }
        shard.iterator = output.NextShardIterator;
        // A closed shard ends when GetRecords hands back no next iterator.
        closed = shard.iterator === undefined;
        if (readNothing && shard.buffer.length === 0) shard.idleSince = readStarted;
      }

      const waited = shard.bufferedSince === undefined ? 0 : Date.now() - shard.bufferedSince;
      const ready =
        shard.buffer.length >= batchSize ||
        // A retry goes out at once, like Lambda's: the batching window applies to new records only.
        (shard.buffer.length > 0 && (closed || windowMs === 0 || waited >= windowMs || shard.attempts > 0));
      if (ready) {
        // stop() may have come while the read was in flight: invoke nothing after it.
        if (abort.signal.aborted) return;
        await deliver(shard);
        continue;
      }
      if (closed && shard.buffer.length === 0) {
        finish(shard);
        return;
      }
      if (readNothing) {
        const untilWindow = shard.buffer.length > 0 ? Math.max(1, windowMs - waited) : pollMs;
        await sleep(Math.min(pollMs, untilWindow));
      }
    }
  }

  function finish(shard: ShardState): void {
    shard.status = 'done';
    shard.iterator = undefined;
    // Children of this shard may start now; no need to wait for the next discovery.
    schedule();
  }

  async function deliver(shard: ShardState): Promise<void> {
    const batch = shard.buffer.slice(0, batchSize);
    let outcome: BatchOutcome;
    stats.invocations++;
    if (shard.attempts > 0) stats.retries++;
    shard.attempts++;
    try {
      outcome = interpretBatchResponse(batch, await options.handler({ Records: batch }));
    } catch (error) {
      outcome = {
        kind: 'failure',
        reason: `the handler threw: ${error instanceof Error ? error.message : String(error)}`,
        error,
      };
    }

    if (outcome.kind === 'success') {
      consume(shard, batch.length);
      stats.recordsDelivered += batch.length;
      return;
    }
    const checkpoint = outcome.kind === 'partial' ? outcome.checkpoint : 0;
    if (checkpoint > 0) {
      // Records before the checkpoint are done; the retry count starts again for the rest.
      consume(shard, checkpoint);
      stats.recordsDelivered += checkpoint;
      shard.attempts = 1;
    }
    const retriesUsed = shard.attempts - 1;
    if (maxRetries >= 0 && retriesUsed >= maxRetries) {
      const failed = batch.slice(checkpoint);
      const failure: FailedBatch = {
        streamArn,
        shardId: shard.id,
        records: failed,
        attempts: shard.attempts,
        reason:
          outcome.kind === 'partial'
            ? `the handler reported itemIdentifier ${outcome.itemIdentifier} as failed`
            : outcome.reason,
        ...(outcome.kind === 'failure' && outcome.error !== undefined ? { error: outcome.error } : {}),
      };
      stats.failedBatches++;
      stats.recordsFailed += failed.length;
      consume(shard, failed.length);
      try {
        await options.onFailure?.(failure);
      } catch (error) {
        onError(error);
      }
      return;
    }
    await sleep(Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** Math.max(0, retriesUsed)));
  }

  function consume(shard: ShardState, count: number): void {
    shard.buffer.splice(0, count);
    shard.attempts = 0;
    if (shard.buffer.length === 0) shard.bufferedSince = undefined;
  }

  async function discoverForever(): Promise<void> {
    while (!abort.signal.aborted) {
      await sleep(discoveryMs);
      if (abort.signal.aborted) return;
      try {
        await discover(false);
      } catch (error) {
        if (!abort.signal.aborted) onError(new StreamReadError(`DescribeStream failed for ${streamArn}`, { cause: error }));
      }
    }
  }

  function busyShards(since: number): string[] {
    if (discoveredSince <= since) return ['(shard discovery)'];
    return [...shards.values()]
      .filter((shard) => shard.status !== 'done' && !(shard.status === 'reading' && shard.idleSince > since))
      .map((shard) => shard.id);
  }

  return {
    stats,
    async start() {
      if (state !== 'new') throw new StreamReadError('this stream runner was already started; create a new one');
      state = 'starting';
      try {
        await discover(true);
      } catch (error) {
        // stop() during start() aborts the first DescribeStream: that is not a failure.
        if (abort.signal.aborted) return;
        state = 'stopped';
        ownedClient?.destroy();
        throw new StreamReadError(
          `Could not read stream ${streamArn}: ${error instanceof Error ? error.message : String(error)}. Is the table's stream enabled, and is this its LatestStreamArn?`,
          { cause: error },
        );
      }
      if (abort.signal.aborted) return;
      state = 'running';
      schedule();
      discoveryLoop = discoverForever();
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      abort.abort();
      for (const wake of [...wakers]) wake();
      await Promise.all([discoveryLoop, ...[...shards.values()].map((shard) => shard.loop)]);
      ownedClient?.destroy();
    },
    async waitForIdle({ timeoutMs = 30_000 } = {}) {
      if (state !== 'running') throw new StreamReadError('waitForIdle needs a running stream runner; call start() first');
      const since = ++tick;
      // A discovery that starts after this call also catches shards created by recent writes.
      const deadline = Date.now() + timeoutMs;
      let nextDiscovery = Date.now();
      while (busyShards(since).length > 0) {
        if (state !== 'running') throw new StreamReadError('the stream runner was stopped while waiting for it to be idle');
        if (Date.now() > deadline) throw new RunnerTimeoutError(timeoutMs, busyShards(since));
        if (discoveredSince <= since && Date.now() >= nextDiscovery) {
          nextDiscovery = Date.now() + discoveryMs;
          try {
            await discover(false);
          } catch (error) {
            if (!abort.signal.aborted) onError(new StreamReadError(`DescribeStream failed for ${streamArn}`, { cause: error }));
          }
          continue;
        }
        await sleep(Math.min(pollMs, 20));
      }
    },
  };
}
