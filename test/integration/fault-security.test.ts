/**
 * Safe defaults against real servers: credentials never reach error messages, inspected error
 * objects or log lines; TLS certificates are verified unless the caller hands over a CA.
 */
import type { ConnectionOptions } from 'node:tls';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import type { CacheAdapter, CommandResult } from '../../src/core/commands.js';
import { ConfigError } from '../../src/errors.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { faultRules, userStream } from '../helpers/fault-model.js';
import { insert } from '../helpers/records.js';
import { freePort } from '../helpers/free-port.js';
import { type MemcachedPool, startMemcachedPool } from '../helpers/memcached-servers.js';
import { type RedisServer, startRedis } from '../helpers/redis-servers.js';
import { captureStdout } from '../helpers/stdout.js';
import { createTestCertificates, type TestCertificates } from '../helpers/tls-certs.js';

const PASSWORD = 'Pa55-very-secret-9f3';
const WRONG = 'Wr0ng-but-also-secret-7c1';

const stdout = captureStdout();

/** What the library says about a failure: messages and stacks of the error and its causes. */
function everythingSaid(results: readonly CommandResult[]): string {
  const parts: string[] = [];
  for (const result of results) {
    if (result.ok) continue;
    let error: unknown = result.error;
    for (let depth = 0; depth < 6 && error instanceof Error; depth++) {
      parts.push(String(error), error.message, error.stack ?? '');
      error = error.cause;
    }
  }
  return parts.join('\n');
}

/** What `console.log(result.error)` prints: every own property of the error and its causes. */
function inspected(results: readonly CommandResult[]): string {
  return results.map((r) => (r.ok ? '' : inspect(r.error, { depth: 8 }))).join('\n');
}

/** Run one batch through the default handler (JSON logs and EMF on stdout) and the raw adapter. */
async function failEverywhere(adapter: CacheAdapter): Promise<{ said: string; printed: string; logs: string; reported: boolean }> {
  const batch = userStream('sec', 4, 4);
  const result = await createStreamProcessor({ adapter, rules: faultRules }).process({ Records: batch });
  const direct = await adapter.execute([{ kind: 'set', key: 'probe', value: 'v' }]);
  expect(direct[0]?.ok).toBe(false);
  return {
    said: everythingSaid(direct),
    printed: inspected(direct),
    logs: stdout.join(''),
    reported: result.batchItemFailures[0]?.itemIdentifier === batch[0]?.dynamodb?.SequenceNumber,
  };
}

function expectNoSecret(text: string): void {
  for (const secret of [PASSWORD, WRONG, encodeURIComponent(PASSWORD), encodeURIComponent(WRONG)]) expect(text).not.toContain(secret);
}

describe('credentials never leak', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ password: PASSWORD });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('redis: a wrong password in the url stays out of error messages and logs', async () => {
    const adapter = redisAdapter({ url: `redis://default:${WRONG}@127.0.0.1:${server.port}` });
    try {
      const { said, logs, reported } = await failEverywhere(adapter);
      expect(reported).toBe(true);
      expect(said).toMatch(/WRONGPASS|invalid password/i); // the failure is explained...
      expectNoSecret(said); // ...without the password
      expectNoSecret(logs);
    } finally {
      await adapter.close();
    }
  });

  it('redis: the right password stays out of errors and logs when the server is unreachable', async () => {
    const port = await freePort();
    const adapter = redisAdapter({ url: `redis://default:${PASSWORD}@127.0.0.1:${port}` });
    try {
      const { said, printed, logs, reported } = await failEverywhere(adapter);
      expect(reported).toBe(true);
      expect(said).toMatch(/ECONNREFUSED/);
      expectNoSecret(said);
      expectNoSecret(printed);
      expectNoSecret(logs);
    } finally {
      await adapter.close();
    }
  });

  // Was a known gap: the cause of a refused AUTH was ioredis's ReplyError, which carries the
  // command it answered (`args: ['3', 'AUTH', user, password]`), so `console.log(result.error)`
  // printed the password. The adapter now keeps only clean copies of client errors.
  it('redis: a refused password stays out of an inspected (console.log) error', async () => {
    for (const url of [`redis://default:${WRONG}@127.0.0.1:${server.port}`, `redis://app:${WRONG}@127.0.0.1:${server.port}`]) {
      const adapter = redisAdapter({ url });
      try {
        const { said, printed } = await failEverywhere(adapter);
        expect(said).toMatch(/WRONGPASS|invalid password/i); // the reason is still there
        expectNoSecret(printed);
        expectNoSecret(inspect(await adapter.get('k').catch((error: unknown) => error), { depth: 10 }));
      } finally {
        await adapter.close();
      }
    }
  });

  it('redis: a password the server refuses for an ACL user stays out too', async () => {
    const adapter = redisAdapter({ url: `redis://app:${WRONG}@127.0.0.1:${server.port}` });
    try {
      const { said, logs } = await failEverywhere(adapter);
      expectNoSecret(said);
      expectNoSecret(logs);
    } finally {
      await adapter.close();
    }
  });

  it('memcached: a SASL password stays out of errors and logs when the server is unreachable', async () => {
    const port = await freePort();
    const adapter = memcachedAdapter({ servers: `127.0.0.1:${port}`, username: 'app', password: PASSWORD });
    try {
      const { said, printed, logs, reported } = await failEverywhere(adapter);
      expect(reported).toBe(true);
      expectNoSecret(said);
      expectNoSecret(printed);
      expectNoSecret(logs);
    } finally {
      await adapter.close();
    }
  });
});

describe('TLS is verified by default', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ tls: true, password: PASSWORD });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('redis: rediss:// to a server with a self-signed CA fails unless that CA is given', async () => {
    const url = `rediss://default:${PASSWORD}@127.0.0.1:${server.port}`;
    const unverified = redisAdapter({ url });
    try {
      const { said, printed, logs, reported } = await failEverywhere(unverified);
      expect(reported).toBe(true);
      expect(said).toMatch(/certificate|self[- ]signed|unable to verify/i);
      expectNoSecret(said);
      expectNoSecret(printed);
      expectNoSecret(logs);
      expect((await server.cli('DBSIZE')).trim()).toBe('0');
    } finally {
      await unverified.close();
    }
    // Extra client options do not switch verification off by themselves.
    const withOptions = redisAdapter({ url, clientOptions: { connectionName: 'x' }, tls: { servername: 'localhost' } });
    try {
      expect((await withOptions.execute([{ kind: 'set', key: 'k', value: 'v' }]))[0]?.ok).toBe(false);
    } finally {
      await withOptions.close();
    }
    const verified = redisAdapter({ url, tls: { ca: server.tls?.ca } });
    try {
      expect(await verified.execute([{ kind: 'set', key: 'k', value: 'v' }])).toEqual([{ ok: true }]);
    } finally {
      await verified.close();
    }
  });

  // Was a known gap: clientOptions were spread over the adapter's own options, so
  // `clientOptions: { tls: undefined }` (what `tls: process.env.CA ? { ca } : undefined`
  // produces) turned a rediss:// url into plaintext, silently. Now refused at cold start.
  it('redis: a rediss:// url never falls back to plaintext', async () => {
    const plain = await startRedis();
    const url = `rediss://127.0.0.1:${plain.port}`;
    try {
      const overrides: Record<string, unknown>[] = [
        { tls: undefined },
        { tls: false },
        { tls: null },
        { tls: {} },
        { redisOptions: { tls: undefined } },
        { Connector: undefined },
      ];
      for (const clientOptions of overrides) {
        expect(() => redisAdapter({ url, clientOptions }), JSON.stringify(clientOptions)).toThrow(ConfigError);
        expect(() => redisAdapter({ url, clientOptions, cluster: true }), JSON.stringify(clientOptions)).toThrow(ConfigError);
      }
      for (const tls of [false, null, 'yes']) {
        expect(() => redisAdapter({ url, tls: tls as unknown as ConnectionOptions }), String(tls)).toThrow(/tls: must be an object/);
      }
      // Any other client option leaves TLS on: the plain server never gets the value.
      const adapter = redisAdapter({ url, clientOptions: { connectionName: 'x', enableAutoPipelining: false }, connectTimeoutMs: 500 });
      try {
        expect((await adapter.execute([{ kind: 'set', key: 'k', value: 'sent in the clear' }]))[0]?.ok).toBe(false);
      } finally {
        await adapter.close();
      }
      expect((await plain.cli('DBSIZE')).trim()).toBe('0');
    } finally {
      await plain.stop();
    }
  });

  it('redis: certificate verification cannot be switched off', async () => {
    const url = `rediss://default:${PASSWORD}@127.0.0.1:${server.port}`;
    // `undefined` counts: tls.connect reads a present-but-undefined rejectUnauthorized as false.
    for (const rejectUnauthorized of [false, undefined, 0]) {
      const tls = { rejectUnauthorized } as unknown as ConnectionOptions;
      expect(() => redisAdapter({ url, tls }), String(rejectUnauthorized)).toThrow(/tls\.rejectUnauthorized: certificate verification cannot be switched off/);
    }
    const verified = redisAdapter({ url, tls: { ca: server.tls?.ca, rejectUnauthorized: true } });
    try {
      expect(await verified.execute([{ kind: 'set', key: 'k', value: 'v' }])).toEqual([{ ok: true }]);
    } finally {
      await verified.close();
    }
  });

  describe('memcached', () => {
    let certs: TestCertificates;
    let pool: MemcachedPool;
    beforeAll(async () => {
      certs = await createTestCertificates();
      pool = await startMemcachedPool(1, { tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
    });
    afterAll(async () => {
      await pool?.stop();
      await certs?.cleanup();
    });

    it('tls: true to a server with a self-signed CA fails unless that CA is given', async () => {
      const unverified = memcachedAdapter({ servers: pool.servers, tls: true });
      try {
        const { reported } = await failEverywhere(unverified);
        expect(reported).toBe(true);
      } finally {
        await unverified.close();
      }
      const verified = memcachedAdapter({ servers: pool.servers, tls: { ca: certs.ca, servername: 'localhost' } });
      try {
        expect(await verified.execute([{ kind: 'set', key: 'k', value: 'v' }])).toEqual([{ ok: true }]);
      } finally {
        await verified.close();
      }
    });
  });
});

describe('item writers cannot inject protocol commands through keys', () => {
  const hostile = { pk: 'p1 flush_all', type: 'User', email: 'x@example.com\r\nflush_all\r\nset evil 0 0 1\r\nx', name: 'n\r\nFLUSHALL' };

  /** Write the hostile item next to a canary; both must come back exactly as written. */
  async function expectHostileItemContained(adapter: CacheAdapter): Promise<void> {
    await adapter.execute([{ kind: 'set', key: 'canary', value: 'alive' }]);
    const result = await createStreamProcessor({ adapter, rules: faultRules, logger: false, metrics: false }).process({ Records: [insert(hostile)] });
    expect(result.batchItemFailures).toEqual([]);
    expect(await adapter.get('canary')).toBe('alive');
    expect(JSON.parse((await adapter.get(`user-by-email:${hostile.email}`)) ?? '{}')).toMatchObject({ name: hostile.name });
  }

  it('redis: CRLF and commands in item data stay inside their keys and values', async () => {
    const server = await startRedis();
    const adapter = redisAdapter({ url: server.url });
    try {
      await expectHostileItemContained(adapter);
      expect((await server.cli('EXISTS', 'evil')).trim()).toBe('0');
    } finally {
      await adapter.close();
      await server.stop();
    }
  });

  it('memcached: CRLF, spaces and commands in item data stay inside their (mapped) keys', async () => {
    const pool = await startMemcachedPool(1);
    const adapter = memcachedAdapter({ servers: pool.servers });
    try {
      await expectHostileItemContained(adapter);
      expect(await adapter.get('evil')).toBeUndefined();
    } finally {
      await adapter.close();
      await pool.stop();
    }
  });
});
