/**
 * A local stand-in for Lambda's DynamoDB Streams event source mapping, for development and
 * tests: it reads every shard of a stream (DynamoDB Local or any endpoint you point it at) and
 * invokes a Lambda-style handler with the same event shape and the same batch, ordering and
 * retry semantics. Production runs on Lambda's event source mapping, not on this.
 *
 * The work is split by concern under `./runner/`: options, the stream calls, shard discovery
 * and scheduling, one shard's read loop, batching, checkpointing, retries, and idle detection.
 *
 * @module
 */
import { StreamReadError } from './errors.js';
import { createAbortableSleep, emptyStats, type RunnerContext } from './runner/context.js';
import { waitUntilIdle } from './runner/idle.js';
import { assertValidOptions, resolveSettings } from './runner/options.js';
import { discover, discoverForever, schedule } from './runner/shards.js';
import { connectStreams } from './runner/streams-api.js';
import type { StreamRunner, StreamRunnerOptions } from './runner/types.js';

export type {
  FailedBatch,
  StreamEventHandler,
  StreamRunner,
  StreamRunnerOptions,
  StreamRunnerStats,
  StreamsApi,
} from './runner/types.js';

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
  assertValidOptions(options);
  const settings = resolveSettings(options);
  const { api, ownedClient } = connectStreams(options);
  const abort = new AbortController();
  const { sleep, wakeAll } = createAbortableSleep(abort.signal);
  const ctx: RunnerContext = {
    options,
    settings,
    api,
    shards: new Map(),
    stats: emptyStats(),
    signal: abort.signal,
    sleep,
    state: 'new',
    tick: 0,
    discoveredSince: -1,
  };
  let discoveryLoop: Promise<void> | undefined;

  return {
    stats: ctx.stats,
    async start() {
      if (ctx.state !== 'new') throw new StreamReadError('this stream runner was already started; create a new one');
      ctx.state = 'starting';
      try {
        await discover(ctx, true);
      } catch (error) {
        // stop() during start() aborts the first DescribeStream: that is not a failure.
        if (abort.signal.aborted) return;
        ctx.state = 'stopped';
        ownedClient?.destroy();
        throw new StreamReadError(
          `Could not read stream ${settings.streamArn}: ${error instanceof Error ? error.message : String(error)}. Is the table's stream enabled, and is this its LatestStreamArn?`,
          { cause: error },
        );
      }
      if (abort.signal.aborted) return;
      ctx.state = 'running';
      schedule(ctx);
      discoveryLoop = discoverForever(ctx);
    },
    async stop() {
      if (ctx.state === 'stopped') return;
      ctx.state = 'stopped';
      abort.abort();
      wakeAll();
      await Promise.all([discoveryLoop, ...[...ctx.shards.values()].map((shard) => shard.loop)]);
      ownedClient?.destroy();
    },
    async waitForIdle({ timeoutMs = 30_000 } = {}) {
      await waitUntilIdle(ctx, timeoutMs);
    },
  };
}
