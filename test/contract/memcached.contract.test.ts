import * as vitest from 'vitest';
import { memcachedAdapter, memcachedKey } from '../../src/adapters/memcached/index.js';
import { adapterContract } from '../../src/testing/index.js';
import { memcachedTtl, startMemcached, startMemcachedPool } from '../helpers/memcached-servers.js';

// A 1 KiB item size limit keeps the refused command small; the contract's values all fit.
const MAX_ITEM_SIZE = 1024;

vitest.describe('memcachedAdapter contract (one server, created client)', () => {
  adapterContract(vitest, async () => {
    const memcached = await startMemcached({ maxItemSize: MAX_ITEM_SIZE });
    const adapter = memcachedAdapter({ servers: memcached.servers });
    return {
      adapter,
      // memcached 1.6 reports the TTL left through the meta protocol (mg <key> t).
      ttlOf: (key) => memcachedTtl(memcached.node.address, memcachedKey(key)),
      // Under the adapter's maxValueBytes, so it is sent, and over the server's -I: the server refuses it.
      refusedCommand: { kind: 'set', key: 'contract:refused', value: 'x'.repeat(4 * MAX_ITEM_SIZE) },
      stop: () => memcached.stop(),
    };
  });
});

vitest.describe('memcachedAdapter contract (three servers)', () => {
  adapterContract(vitest, async () => {
    const pool = await startMemcachedPool(3, { maxItemSize: MAX_ITEM_SIZE });
    const adapter = memcachedAdapter({ servers: pool.servers });
    return {
      adapter,
      refusedCommand: { kind: 'set', key: 'contract:refused', value: 'x'.repeat(4 * MAX_ITEM_SIZE) },
      stop: () => pool.stop(),
    };
  });
});
