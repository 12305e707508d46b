import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult } from '../../src/core/commands.js';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { type MemcachedNode, type MemcachedPool, startMemcached } from '../helpers/memcached-servers.js';
import { createTestCertificates, type TestCertificates } from '../helpers/tls-certs.js';

let certs: TestCertificates;
let otherCa: TestCertificates;
let memcached: MemcachedPool & { node: MemcachedNode };
let n = 0;
const key = (name: string) => `tls:${process.pid}:${++n}:${name}`;
const errorOf = (r: CommandResult | undefined) => (r && !r.ok ? r.error : undefined);

beforeAll(async () => {
  certs = await createTestCertificates();
  otherCa = await createTestCertificates('some other CA');
  memcached = await startMemcached({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
});
afterAll(async () => {
  await memcached?.stop();
  await certs?.cleanup();
  await otherCa?.cleanup();
});

describe('memcachedAdapter over TLS', () => {
  it('refuses a server whose certificate it does not trust, naming the TLS error', async () => {
    const adapter = memcachedAdapter({ servers: memcached.servers, tls: { ca: otherCa.ca } });
    try {
      const results = await adapter.execute([{ kind: 'set', key: key('untrusted'), value: 'v' }]);
      expect(results[0]?.ok).toBe(false);
      expect(errorOf(results[0])?.message).toMatch(/TLS: .*certificate/i);
    } finally {
      await adapter.close();
    }
  });

  it('checks the server name: a certificate for 127.0.0.1/localhost does not pass for another name', async () => {
    const adapter = memcachedAdapter({ servers: memcached.servers, tls: { ca: certs.ca, servername: 'cache.example.com' } });
    try {
      const [result] = await adapter.execute([{ kind: 'set', key: key('wrong-name'), value: 'v' }]);
      expect(errorOf(result)?.message).toMatch(/TLS: .*(altnames|Hostname)/i);
    } finally {
      await adapter.close();
    }
  });

  it('without tls, fails against a TLS-only server instead of hanging', async () => {
    const adapter = memcachedAdapter({ servers: memcached.servers, deadlineMs: 1_000 });
    try {
      const [result] = await adapter.execute([{ kind: 'set', key: key('plain'), value: 'v' }]);
      expect(result?.ok).toBe(false);
    } finally {
      await adapter.close();
    }
  }, 10_000);

  it('reconnects over TLS after the server restarts', async () => {
    const adapter = memcachedAdapter({ servers: memcached.servers, tls: { ca: certs.ca } });
    try {
      const k = key('restart');
      expect(await adapter.execute([{ kind: 'set', key: k, value: 'before' }])).toEqual([{ ok: true }]);
      await memcached.node.stop();
      const [down] = await adapter.execute([{ kind: 'set', key: k, value: 'down' }]);
      expect(down?.ok).toBe(false);
      await memcached.node.start();
      expect(await adapter.execute([{ kind: 'set', key: k, value: 'after' }])).toEqual([{ ok: true }]);
      expect(await adapter.get(k)).toBe('after');
    } finally {
      await adapter.close();
    }
  }, 15_000);
});
