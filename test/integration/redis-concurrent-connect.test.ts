/**
 * Many callers (reader `get`s, a handler batch) can reach an adapter-owned client before it is
 * connected. They must share one wait for readiness rather than each adding listeners to the
 * client: past ten, Node prints MaxListenersExceededWarning, and the listeners pile up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAdapter } from '../../src/adapters/redis/index.js';
import { type RedisServer, startRedis } from '../helpers/redis-servers.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe('redisAdapter with many callers before the connection is ready', () => {
  it('serves 50 concurrent first calls with one readiness wait and no listener warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const adapter = redisAdapter({ url: server.url });
    try {
      await adapter.execute([{ kind: 'set', key: 'concurrent:k', value: 'v' }]);
      await adapter.close();
      const fresh = redisAdapter({ url: server.url });
      const values = await Promise.all(Array.from({ length: 50 }, () => fresh.get('concurrent:k')));
      expect(values).toEqual(Array.from({ length: 50 }, () => 'v'));
      await fresh.close();
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
