/**
 * Budgets on Lambda bundle sizes (esbuild, minified, CommonJS; see bench/lib/bundles.ts and
 * docs/performance.md). Bytes are deterministic for a given lockfile, so these are exact checks,
 * not timings. The limits leave a little headroom over today's sizes: growing past one is a
 * decision to make on purpose (raise it here and in docs/performance.md), not by accident.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle, type Bundle, type BundleName } from '../../bench/lib/bundles.js';

/**
 * The Redis handler over ioredis alone. Goal 1.3x (issue #14, open); 0.1.0 was about 1.35x,
 * 0.2.0 grew to 1.43x with the round's features, and fewer zod kinds in the handler config
 * brought it to 1.41x (276,952 / 196,945 bytes; 80 kB added). What the 80 kB is, and why 1.3x
 * (59 kB added) is not reachable while the config is validated with zod, is in
 * docs/performance.md, "Bundle size: where the Redis handler's bytes come from". The lazy item
 * view, multi-key DELs and the cluster-routing fix then added 4.7 kB: 281,618 bytes, 1.43x, 84.7 kB
 * added (raised on purpose, same round).
 */
const REDIS_HANDLER_OVER_IOREDIS = 1.44;
/** What the library adds to a Redis handler: its sources, zod/mini and @aws-sdk/util-dynamodb. */
const LIBRARY_SHARE_BYTES = 86_000;
const MEMCACHED_HANDLER_BYTES = 105_000;
const ROOT_ENTRY_BYTES = 78_000;

const bundles = new Map<BundleName, Bundle>();
const get = (name: BundleName): Bundle => {
  const b = bundles.get(name);
  if (b === undefined) throw new Error(`bundle ${name} was not built`);
  return b;
};
const fromPackage = (b: Bundle, name: string) => b.inputs.some((input) => input.includes(`node_modules/${name}/`));

beforeAll(async () => {
  for (const name of ['redis-handler', 'raw-ioredis', 'memcached-handler', 'raw-memjs', 'root-entry'] as const) bundles.set(name, await bundle(name));
}, 120_000);

describe('bundle budgets', () => {
  it(`keeps the Redis handler bundle within ${REDIS_HANDLER_OVER_IOREDIS}x the ioredis-only bundle`, () => {
    const handler = get('redis-handler');
    const raw = get('raw-ioredis');
    expect(fromPackage(handler, 'ioredis')).toBe(true);
    expect(handler.bytes).toBeLessThanOrEqual(REDIS_HANDLER_OVER_IOREDIS * raw.bytes);
    expect(handler.bytes - raw.bytes).toBeLessThanOrEqual(LIBRARY_SHARE_BYTES);
  });

  it('keeps ioredis out of the Memcached handler bundle, and keeps it small', () => {
    const handler = get('memcached-handler');
    expect(fromPackage(handler, 'memjs')).toBe(true);
    expect(fromPackage(handler, 'ioredis')).toBe(false);
    expect(fromPackage(handler, '@ioredis/commands')).toBe(false);
    expect(handler.bytes).toBeLessThanOrEqual(MEMCACHED_HANDLER_BYTES);
  });

  it('keeps both cache clients out of the package root, and keeps it small', () => {
    const root = get('root-entry');
    expect(fromPackage(root, 'ioredis')).toBe(false);
    expect(fromPackage(root, 'memjs')).toBe(false);
    expect(root.bytes).toBeLessThanOrEqual(ROOT_ENTRY_BYTES);
  });

  it('measures real bundles (the raw-client bundles contain their client)', () => {
    // Guards the checks above against a fixture that silently bundles nothing.
    expect(fromPackage(get('raw-ioredis'), 'ioredis')).toBe(true);
    expect(get('raw-ioredis').bytes).toBeGreaterThan(100_000);
    expect(fromPackage(get('raw-memjs'), 'memjs')).toBe(true);
  });
});
