/**
 * Memcached adapter (`ddb-cache-sync/memcached`): apply cache commands to Memcached or
 * ElastiCache Memcached through memjs, which is loaded only when the adapter creates its own client.
 *
 * @module
 */
export { memcachedAdapter, type MemcachedAdapter } from './adapter.js';
export type { MemcachedClient } from './client.js';
export { MemcachedValueTooLargeError } from './errors.js';
export { MEMCACHED_MAX_KEY_BYTES, memcachedKey } from './key.js';
export {
  DEFAULT_MAX_VALUE_BYTES,
  type MemcachedAdapterOptions,
  type MemcachedClientOptions,
  type MemcachedServersOptions,
} from './options.js';
