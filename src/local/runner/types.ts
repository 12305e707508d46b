/**
 * The stream runner's public types. `../stream-runner.ts` re-exports them; the runner's
 * modules import them from here so none of them depends on the factory.
 *
 * @module
 */
import type {
  DescribeStreamCommandInput,
  DescribeStreamCommandOutput,
  DynamoDBStreamsClient,
  GetRecordsCommandInput,
  GetRecordsCommandOutput,
  GetShardIteratorCommandInput,
  GetShardIteratorCommandOutput,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** Any Lambda-style DynamoDB Streams handler, e.g. the one `createStreamHandler` returns. */
// biome-ignore lint/suspicious/noConfusingVoidType: Lambda handlers may return nothing; `void` lets them be passed as they are
export type StreamEventHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void> | DynamoDBBatchResponse | void;

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
