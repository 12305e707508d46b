/**
 * Errors raised by the local development tools (`ddb-cache-sync/local`). They extend the
 * library's base class so `instanceof DdbCacheSyncError` still catches everything.
 *
 * @module
 */
import { DdbCacheSyncError } from '../errors.js';

/**
 * `java` could not be started, so DynamoDB Local cannot run. The demo catches this and
 * replays recorded events instead.
 */
export class JavaNotFoundError extends DdbCacheSyncError {
  /** The command that was tried, e.g. `java` or the `javaPath` option. */
  readonly command: string;
  constructor(command: string, options?: { cause?: unknown }) {
    super(
      `DynamoDB Local needs Java 17 or newer, but ${JSON.stringify(command)} could not be started. ` +
        'Install a Java 17+ runtime and put `java` on PATH (or set JAVA_HOME, or pass the `javaPath` option).',
      options,
    );
    this.name = 'JavaNotFoundError';
    this.command = command;
  }
}

/** DynamoDB Local started but exited or never answered. `output` holds what it printed. */
export class DynamoDbLocalStartError extends DdbCacheSyncError {
  /** The last lines DynamoDB Local wrote to stdout/stderr. */
  readonly output: string;
  constructor(message: string, output: string, options?: { cause?: unknown }) {
    super(output.trim() === '' ? message : `${message}\n--- DynamoDB Local output ---\n${output.trim()}`, options);
    this.name = 'DynamoDbLocalStartError';
    this.output = output;
  }
}

/** A stream could not be read (no stream on the table, or DynamoDB Streams refused a call). */
export class StreamReadError extends DdbCacheSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamReadError';
  }
}

/** `waitForIdle` gave up: records were still undelivered (or retrying) when the time ran out. */
export class RunnerTimeoutError extends DdbCacheSyncError {
  /** Shard ids that were not idle. */
  readonly busyShards: readonly string[];
  constructor(timeoutMs: number, busyShards: readonly string[]) {
    super(
      `the stream runner was still busy after ${timeoutMs} ms (shards: ${busyShards.join(', ') || 'discovering'}). ` +
        'A handler that keeps failing is retried until maximumRetryAttempts; set it (and onFailure) or raise timeoutMs.',
    );
    this.name = 'RunnerTimeoutError';
    this.busyShards = busyShards;
  }
}
