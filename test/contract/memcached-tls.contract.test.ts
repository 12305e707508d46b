import * as vitest from 'vitest';
import { memcachedAdapter, memcachedKey } from '../../src/adapters/memcached/index.js';
import { adapterContract } from '../../src/testing/index.js';
import { memcachedTtl, startMemcached } from '../helpers/memcached-servers.js';
import { createTestCertificates } from '../helpers/tls-certs.js';

vitest.describe('memcachedAdapter contract (TLS-only server, tls option)', () => {
  adapterContract(vitest, async () => {
    const certs = await createTestCertificates();
    try {
      const memcached = await startMemcached({ maxItemSize: 1024, tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
      const adapter = memcachedAdapter({ servers: memcached.servers, tls: { ca: certs.ca } });
      return {
        adapter,
        ttlOf: (key) => memcachedTtl(memcached.node.address, memcachedKey(key), { tls: { ca: certs.ca } }),
        refusedCommand: { kind: 'set', key: 'contract:refused', value: 'x'.repeat(4096) },
        stop: async () => {
          await memcached.stop();
          await certs.cleanup();
        },
      };
    } catch (error) {
      await certs.cleanup();
      throw error;
    }
  });
});
