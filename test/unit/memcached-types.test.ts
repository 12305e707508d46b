import type memjs from 'memjs';
import { expectTypeOf, it } from 'vitest';
import type { MemcachedClient } from '../../src/adapters/memcached/index.js';

it('accepts a memjs Client as a MemcachedClient', () => {
  expectTypeOf<memjs.Client>().toExtend<MemcachedClient>();
});
