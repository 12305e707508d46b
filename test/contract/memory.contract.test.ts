import { describe } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import { adapterContract } from './adapter-contract.js';

describe('memoryAdapter contract', () => {
  adapterContract(async () => {
    const adapter = memoryAdapter();
    return { adapter, ttlOf: async (key) => adapter.ttl(key), stop: async () => {} };
  });
});
