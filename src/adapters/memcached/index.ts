/**
 * Memcached adapter (`ddb-cache-sync/memcached`): apply cache commands to Memcached or
 * ElastiCache Memcached through memjs, which is loaded only when the adapter creates its own client.
 *
 * @module
 */
export {
  DEFAULT_MAX_VALUE_BYTES,
  memcachedAdapter,
  type MemcachedAdapter,
  type MemcachedAdapterOptions,
  type MemcachedClient,
  type MemcachedClientOptions,
  type MemcachedServersOptions,
} from './adapter.js';
export { MemcachedValueTooLargeError } from './errors.js';
export { MEMCACHED_MAX_KEY_BYTES, memcachedKey } from './key.js';
