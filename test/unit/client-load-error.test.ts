import { describe, expect, it } from 'vitest';
import { ClientLoadError, ConfigError } from '../../src/errors.js';
import { clientLoadError, loadPeer } from '../../src/adapters/peer.js';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('clientLoadError', () => {
  it('says "npm install" when the package itself is not found (ESM and CommonJS loaders)', () => {
    for (const cause of [
      withCode("Cannot find package 'ioredis' imported from /var/task/index.mjs", 'ERR_MODULE_NOT_FOUND'),
      withCode("Cannot find module 'ioredis'", 'MODULE_NOT_FOUND'),
    ]) {
      const error = clientLoadError('ioredis', 'redisAdapter.url', cause);
      expect(error).toBeInstanceOf(ClientLoadError);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.missing).toBe(true);
      expect(error.issues).toEqual([
        'redisAdapter.url: needs the optional peer dependency ioredis, which is not installed (npm install ioredis), or pass { client }',
      ]);
      expect(error.cause).toBe(cause);
    }
  });

  it('does not call a package missing when one of its own dependencies is', () => {
    const error = clientLoadError('ioredis', 'redisAdapter.url', withCode("Cannot find module 'denque'", 'MODULE_NOT_FOUND'));
    expect(error.missing).toBe(false);
    expect(error.message).toContain("ioredis failed to load: Cannot find module 'denque'");
    expect(error.message).not.toContain('npm install');
  });

  it("reports any other failure with the loader's own message", () => {
    const error = clientLoadError('memjs', 'memcachedAdapter.servers', new SyntaxError('Unexpected token'));
    expect(error.packageName).toBe('memjs');
    expect(error.message).toBe(
      'Invalid ddb-cache-sync config: memcachedAdapter.servers: memjs failed to load: Unexpected token; fix your bundle or installation (see docs/deploy.md, "Bundling as ESM")',
    );
  });
});

describe('loadPeer', () => {
  it('lends no require after the load settles, whether it resolved or failed', async () => {
    const had = 'require' in globalThis;
    await expect(loadPeer('x', 'opt', async () => 'loaded')).resolves.toBe('loaded');
    await expect(loadPeer('x', 'opt', async () => Promise.reject(new Error('boom')))).rejects.toThrow(ClientLoadError);
    expect('require' in globalThis).toBe(had);
  });

  it('serves require to the module while it initialises, for overlapping loads', async () => {
    const seen: string[] = [];
    const init = async () => {
      const scope: { require?: (id: string) => unknown } = globalThis;
      await Promise.resolve();
      seen.push(typeof scope.require?.('node:events'));
    };
    // Vitest runs specs as ES modules: no global require to begin with, as in an ESM bundle.
    expect('require' in globalThis).toBe(false);
    await Promise.all([loadPeer('a', 'opt', init), loadPeer('b', 'opt', init)]);
    expect(seen).toEqual(['function', 'function']);
    expect('require' in globalThis).toBe(false);
  });
});
