/**
 * The function of the CDK example: the Valkey/Redis example handler, unchanged. `CacheSync` sets
 * the variables it reads (`TABLE_NAME`, `CACHE_ENDPOINT`, `CACHE_CLUSTER`, `CACHE_SECRET_ARN`)
 * and bundles it as ESM with the `createRequire` banner.
 *
 * @module
 */
export { handler } from '../handler/index.js';
