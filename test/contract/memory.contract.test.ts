import * as vitest from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import { adapterContract } from '../../src/testing/index.js';

vitest.describe('memoryAdapter contract', () => {
  adapterContract(vitest, async () => {
    const adapter = memoryAdapter();
    return { adapter, ttlOf: async (key) => adapter.ttl(key), stop: async () => {} };
  });
});
