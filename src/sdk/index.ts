/**
 * The read path on the application's DynamoDB client: `createReadThroughPlugin` serves covered
 * GetItems from the cache the stream handler keeps, with the same rules. Loads
 * `@aws-sdk/client-dynamodb` types only; the package root never loads this subpath.
 *
 * @module
 */
export { createReadThroughPlugin, READ_THROUGH_MIDDLEWARE, READ_THROUGH_WIRE_MIDDLEWARE } from './plugin.js';
export type { ReadThroughOptions, ReadThroughPlugin } from './plugin.js';
export type { ReadMetrics } from './metrics.js';
