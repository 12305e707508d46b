/**
 * Strict options: every factory refuses, at construction, an option it does not know (naming
 * the nearest valid spelling) and a value of the wrong type, with a ConfigError that keeps the
 * zod error as `cause`. The misspellings are the ones users actually wrote (issue #18).
 */
import memjs from 'memjs';
import { describe, expect, it } from 'vitest';
import { memcachedAdapter } from '../../src/adapters/memcached/index.js';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import { nearestName } from '../../src/core/strict-options.js';
import { ConfigError } from '../../src/errors.js';
import { createCacheReader } from '../../src/reader/index.js';

/** The ConfigError `build` throws (fails the test when it throws none, or another error). */
function configErrorOf(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** Cast an options object the types would refuse, as a JavaScript caller could pass it. */
const untyped = <T>(options: Record<string, unknown>): T => options as unknown as T;

describe('nearestName', () => {
  it('finds the spelling with the unit suffix', () => {
    expect(nearestName('commandTimeout', ['url', 'cluster', 'commandTimeoutMs', 'connectTimeoutMs'])).toBe('commandTimeoutMs');
    expect(nearestName('timeout', ['servers', 'timeoutMs', 'connectTimeoutMs'])).toBe('timeoutMs');
    expect(nearestName('leaseTTL', ['adapter', 'codec', 'leaseTtlMs', 'waitMs'])).toBe('leaseTtlMs');
  });

  it('finds a near misspelling and suggests nothing for an unrelated name', () => {
    expect(nearestName('clsuter', ['url', 'cluster', 'tls'])).toBe('cluster');
    expect(nearestName('frobnicate', ['url', 'cluster', 'tls'])).toBeUndefined();
  });
});

describe('redisAdapter options', () => {
  it('refuses commandTimeout (ioredis spelling), suggesting commandTimeoutMs', () => {
    const error = configErrorOf(() => redisAdapter(untyped({ url: 'redis://127.0.0.1:6379', commandTimeout: 500 })));
    expect(error.issues).toEqual(['redisAdapter.commandTimeout: unknown option; did you mean commandTimeoutMs?']);
    expect(error.cause).toBeDefined();
  });

  it("refuses cluster: 'yes', naming the option and what is allowed", () => {
    const error = configErrorOf(() => redisAdapter(untyped({ url: 'redis://127.0.0.1:6379', cluster: 'yes' })));
    expect(error.issues).toEqual(['redisAdapter.cluster: must be true or false']);
  });

  it('refuses url-only options next to client', () => {
    const client = { pipeline: () => undefined, get: () => undefined };
    const error = configErrorOf(() => redisAdapter(untyped({ client, commandTimeoutMs: 500 })));
    expect(error.issues[0]).toMatch(/^redisAdapter\.commandTimeoutMs: unknown option/);
  });

  it('leaves clientOptions to ioredis', async () => {
    const adapter = redisAdapter({ url: 'redis://127.0.0.1:6379', clientOptions: { someFutureIoredisOption: true } });
    expect(adapter.name).toBe('redis');
    await adapter.close();
  });
});

describe('memcachedAdapter options', () => {
  it('refuses timeout, suggesting timeoutMs', () => {
    const error = configErrorOf(() => memcachedAdapter(untyped({ servers: '127.0.0.1:11211', timeout: 1 })));
    expect(error.issues).toEqual(['memcachedAdapter.timeout: unknown option; did you mean timeoutMs?']);
    expect(error.cause).toBeDefined();
  });

  it('refuses both servers and client', () => {
    const client = memjs.Client.create('127.0.0.1:1', { logger: { log: () => undefined } });
    const error = configErrorOf(() => memcachedAdapter(untyped({ servers: '127.0.0.1:11211', client })));
    expect(error.issues).toEqual(['memcachedAdapter: pass either client or servers, not both (servers is only read when the adapter creates its client)']);
    client.close();
  });

  it('refuses servers-only options next to client', () => {
    const client = memjs.Client.create('127.0.0.1:1', { logger: { log: () => undefined } });
    const error = configErrorOf(() => memcachedAdapter(untyped({ client, timeoutMs: 500 })));
    expect(error.issues[0]).toMatch(/^memcachedAdapter\.timeoutMs: unknown option/);
    client.close();
  });

  it('still explains renamed options once (not also as unknown)', () => {
    const error = configErrorOf(() => memcachedAdapter(untyped({ servers: '127.0.0.1:11211', timeoutSeconds: 1 })));
    expect(error.issues).toEqual(['memcachedAdapter.timeoutSeconds: renamed to timeoutMs, in milliseconds (timeoutSeconds: 1 is timeoutMs: 1000)']);
  });

  it('refuses a wrong type, naming the option', () => {
    const error = configErrorOf(() => memcachedAdapter(untyped({ servers: '127.0.0.1:11211', failover: 'no' })));
    expect(error.issues).toEqual(['memcachedAdapter.failover: must be true or false']);
  });
});

describe('createCacheReader options', () => {
  const adapter = memoryAdapter();

  it('refuses leaseTTL, suggesting leaseTtlMs', () => {
    const error = configErrorOf(() => createCacheReader(untyped({ adapter, leaseTTL: 5_000 })));
    expect(error.issues).toEqual(['createCacheReader.leaseTTL: unknown option; did you mean leaseTtlMs?']);
  });

  it("refuses codec: 'xml' at construction, before any lease is taken", () => {
    const error = configErrorOf(() => createCacheReader(untyped({ adapter, codec: 'xml' })));
    expect(error.issues).toEqual(["createCacheReader.codec: must be 'json', 'dynamodb' or a codec { name, encode, decode }"]);
    expect(adapter.keys()).toEqual([]);
  });

  it('accepts a custom codec object', () => {
    const codec = { name: 'text', encode: (value: unknown) => String(value), decode: (text: string) => text };
    expect(() => createCacheReader({ adapter, codec })).not.toThrow();
  });
});

describe('memoryAdapter options', () => {
  it('refuses an unknown option, suggesting the nearest', () => {
    const error = configErrorOf(() => memoryAdapter(untyped({ nowMs: () => 0 })));
    expect(error.issues).toEqual(['memoryAdapter.nowMs: unknown option; did you mean now?']);
  });
});
