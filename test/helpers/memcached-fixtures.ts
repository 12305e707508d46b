/**
 * Suite-level memcached fixture: registers `beforeAll`/`afterAll` hooks that start one server
 * per `describe` and stop it afterwards. Read `server` inside tests or hooks, not at
 * collection time: the server exists only once `beforeAll` has run.
 */
import { afterAll, beforeAll } from 'vitest';
import { startMemcached } from './memcached-servers.js';

/** One memcached process, as `startMemcached` returns it. */
export type MemcachedServer = Awaited<ReturnType<typeof startMemcached>>;

/** Start one plain-TCP memcached for the enclosing suite. */
export function useMemcached(): { readonly server: MemcachedServer } {
  let server: MemcachedServer | undefined;
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get server() {
      if (server === undefined) throw new Error('memcached is not started: read it inside a test or hook, after beforeAll');
      return server;
    },
  };
}
