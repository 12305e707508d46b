/**
 * Stream runner options: checked once when the runner is created, then resolved to the
 * defaults every other runner module reads.
 *
 * @module
 */
import { ConfigError } from '../../errors.js';
import type { StreamRunnerOptions } from './types.js';

/** The numeric options with their defaults applied. */
export interface RunnerSettings {
  readonly streamArn: string;
  readonly batchSize: number;
  readonly windowMs: number;
  /** -1: retry forever. */
  readonly maxRetries: number;
  readonly pollMs: number;
  readonly discoveryMs: number;
  readonly retryDelayMs: number;
  readonly onError: (error: unknown) => void;
}

/** Throw a {@link ConfigError} naming every bad option, each prefixed with `createStreamRunner`. */
export function assertValidOptions(options: StreamRunnerOptions): void {
  const issues = [...sourceIssues(options), ...numberIssues(options)];
  if (options.startingPosition !== undefined && !['TRIM_HORIZON', 'LATEST'].includes(options.startingPosition)) {
    issues.push(`startingPosition: must be TRIM_HORIZON or LATEST, got ${JSON.stringify(options.startingPosition)}`);
  }
  if (issues.length > 0) throw new ConfigError(issues.map((issue) => `createStreamRunner ${issue}`));
}

/** The stream, the handler, and where to read from. */
function sourceIssues(options: StreamRunnerOptions): string[] {
  const issues: string[] = [];
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
  return issues;
}

const INTEGER_RANGES = [
  ['batchSize', 1, 10_000],
  ['maximumBatchingWindowMs', 0, 300_000],
  ['maximumRetryAttempts', -1, 10_000],
  ['pollIntervalMs', 1, 60_000],
  ['shardDiscoveryIntervalMs', 1, 600_000],
  ['retryDelayMs', 0, 60_000],
] as const;

function numberIssues(options: StreamRunnerOptions): string[] {
  const issues: string[] = [];
  for (const [name, min, max] of INTEGER_RANGES) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
      issues.push(`${name}: must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
  }
  return issues;
}

export function resolveSettings(options: StreamRunnerOptions): RunnerSettings {
  return {
    streamArn: options.streamArn,
    batchSize: options.batchSize ?? 100,
    windowMs: options.maximumBatchingWindowMs ?? 0,
    maxRetries: options.maximumRetryAttempts ?? -1,
    pollMs: options.pollIntervalMs ?? 100,
    discoveryMs: options.shardDiscoveryIntervalMs ?? 1000,
    retryDelayMs: options.retryDelayMs ?? 100,
    onError: options.onError ?? ((error: unknown) => console.error('[stream-runner]', error)),
  };
}
