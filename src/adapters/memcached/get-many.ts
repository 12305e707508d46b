/**
 * `getMany` for the Memcached adapter. memjs has no multi-get, but it writes each request to the
 * server's connection as it is issued, so gets sent together cost about one round trip per
 * server, like a batch.
 *
 * @module
 */
import type { MemcachedClient } from './client.js';
import { memcachedKey } from './key.js';

/** A memjs value as the string the adapter stored. */
export function storedText(value: Uint8Array | string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}

/** The stored strings of `keys`, in order: every get sent before any answer is awaited. */
export async function getMany(client: MemcachedClient, keys: readonly string[]): Promise<(string | undefined)[]> {
  const replies = await Promise.all(keys.map((key) => client.get(memcachedKey(key))));
  return replies.map((reply) => storedText(reply.value));
}
