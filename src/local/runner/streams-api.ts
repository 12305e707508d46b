/**
 * Where the runner reads from: the `api` test seam, a DynamoDB Streams client the caller owns,
 * or one the runner creates for an `endpoint` (and so must destroy on stop).
 *
 * @module
 */
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { ConfigError } from '../../errors.js';
import { localClientConfig } from '../dynamodb-local.js';
import type { StreamRunnerOptions, StreamsApi } from './types.js';

export interface StreamsConnection {
  readonly api: StreamsApi;
  /** Set only when the runner created the client, so only then does stop() destroy it. */
  readonly ownedClient: DynamoDBStreamsClient | undefined;
}

export function connectStreams(options: StreamRunnerOptions): StreamsConnection {
  const ownedClient =
    options.api === undefined && options.client === undefined && options.endpoint !== undefined
      ? new DynamoDBStreamsClient(localClientConfig(options.endpoint))
      : undefined;
  const sdkClient = options.client ?? ownedClient;
  if (options.api !== undefined) return { api: options.api, ownedClient };
  if (sdkClient !== undefined) return { api: sdkApi(sdkClient), ownedClient };
  throw new ConfigError(['createStreamRunner endpoint: pass `endpoint` or a DynamoDB Streams `client`']);
}

function sdkApi(client: DynamoDBStreamsClient): StreamsApi {
  return {
    describeStream: (input, abortSignal) => client.send(new DescribeStreamCommand(input), { abortSignal }),
    getShardIterator: (input, abortSignal) => client.send(new GetShardIteratorCommand(input), { abortSignal }),
    getRecords: (input, abortSignal) => client.send(new GetRecordsCommand(input), { abortSignal }),
  };
}

/** The SDK's error `name` (e.g. `ExpiredIteratorException`), which is how its errors are told apart. */
export function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string' ? error.name : undefined;
}
