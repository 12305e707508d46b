import fc from 'fast-check';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import { keySlot, redisAdapter } from '../../src/adapters/redis/index.js';
import type { AnyCacheCommand, VersionedCacheAdapter } from '../../src/core/commands.js';
import { decodeEnvelope, type Envelope } from '../../src/core/versioned.js';
import { useStandaloneAndCluster } from '../helpers/redis-fixtures.js';

/** What a key holds, without the lease deadline (the two backends run different clocks). */
function comparable(stored: string | undefined): Omit<Envelope, 'deadlineMs'> | undefined {
  if (stored === undefined) return undefined;
  const entry = decodeEnvelope(stored);
  if (entry.kind !== 'lease') return entry;
  const { deadlineMs: _deadline, ...rest } = entry;
  return rest;
}

type Op =
  | { op: 'batch'; commands: AnyCacheCommand[] }
  | { op: 'lease'; token: string }
  | { op: 'fill'; token: string; value: string | undefined; version: string | undefined };

// Versions cluster around equal values and cross the 2^53 and digit-count boundaries.
const version = fc.constantFrom('0', '1', '2', '9', '10', '11', '9007199254740992', '9007199254740993', '99999999999999999999', '100000000000000000000');
const token = fc.constantFrom('r1', 'r2');

/** Sequences on one key, written as `K`; each run substitutes a fresh key. */
function opsOnOneKey(): fc.Arbitrary<Op[]> {
  const key = 'K';
  const command: fc.Arbitrary<AnyCacheCommand> = fc.oneof(
    fc.record({ kind: fc.constant('set-versioned' as const), key: fc.constant(key), value: fc.string({ maxLength: 8 }), version }),
    fc.record({ kind: fc.constant('delete-versioned' as const), key: fc.constant(key), version, tombstoneTtlSeconds: fc.constant(600) }),
    fc.record({ kind: fc.constant('set' as const), key: fc.constant(key), value: fc.constantFrom('plain', '\u001eodd', '\u001ev12\u001fx', '\u001et\u001f') }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constant(key) }),
  );
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 3, arbitrary: fc.array(command, { minLength: 1, maxLength: 4 }).map((commands) => ({ op: 'batch' as const, commands })) },
    { weight: 1, arbitrary: token.map((t) => ({ op: 'lease' as const, token: t })) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('fill' as const),
        token,
        value: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        version: fc.option(version, { nil: undefined }),
      }),
    },
  );
  return fc.array(op, { minLength: 1, maxLength: 12 });
}

async function apply(adapter: VersionedCacheAdapter, key: string, op: Op): Promise<unknown> {
  if (op.op === 'batch') return adapter.execute(op.commands);
  if (op.op === 'lease') {
    const outcome = await adapter.lease(key, op.token, 60_000);
    return outcome.granted ? { granted: true } : { granted: false, stored: comparable(outcome.stored) };
  }
  return adapter.fill(key, op.token, op.value, op.version === undefined ? {} : { version: op.version });
}

function differential(name: string, make: () => VersionedCacheAdapter, keyFor: (run: number) => string) {
  it(`${name}: the Lua scripts agree with the core transitions on random sequences`, async () => {
    const redis = make();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(opsOnOneKey(), async (sequence) => {
          const key = keyFor(++run);
          const ops = sequence.map((op): Op => (op.op === 'batch' ? { op: 'batch', commands: op.commands.map((c) => ({ ...c, key })) } : op));
          const memory = memoryAdapter();
          for (const op of ops) {
            const expected = await apply(memory, key, op);
            const actual = await apply(redis, key, op);
            expect(actual).toEqual(expected);
            expect(comparable(await redis.get(key))).toEqual(comparable(await memory.get(key)));
          }
        }),
        { numRuns: 150 },
      );
    } finally {
      await redis.close();
    }
  }, 120_000);
}

describe('redisAdapter versioned commands against the core transitions', () => {
  const redis = useStandaloneAndCluster();

  differential(
    'standalone',
    () => redisAdapter({ url: redis.server.url }),
    (n) => `diff:${process.pid}:${n}`,
  );
  differential(
    'cluster',
    () => redisAdapter({ url: redis.cluster.url, cluster: true }),
    (n) => `diff:{${process.pid}:${n}}`,
  );

  it('applies versioned writes on a node that lost its scripts (SCRIPT FLUSH)', async () => {
    const adapter = redisAdapter({ url: redis.server.url });
    const raw = new Redis(redis.server.port, redis.server.host);
    try {
      await adapter.execute([{ kind: 'set-versioned', key: 'flush', value: 'a', version: '1' }]);
      await raw.script('FLUSH');
      const results = await adapter.execute([
        { kind: 'set-versioned', key: 'flush', value: 'b', version: '2' },
        { kind: 'delete-versioned', key: 'other', version: '3', tombstoneTtlSeconds: 60 },
      ]);
      expect(results).toEqual([{ ok: true }, { ok: true }]);
      expect(decodeEnvelope((await raw.get('flush')) ?? '')).toEqual({ kind: 'value', version: '2', payload: 'b' });
      await raw.script('FLUSH');
      expect(await adapter.lease('leased', 't', 5_000)).toEqual({ granted: true });
    } finally {
      raw.disconnect();
      await adapter.close();
    }
  });

  it('applies versioned writes whose slot moved since the client cached the slot map', async () => {
    const adapter = redisAdapter({ url: redis.cluster.url, cluster: true });
    const raw = new Cluster([...redis.cluster.nodes]);
    try {
      const key = '{v-moved}:k';
      await adapter.execute([{ kind: 'set-versioned', key, value: 'a', version: '1' }]);
      const slot = keySlot(key);
      const from = await redis.cluster.ownerOf(slot);
      const to = redis.cluster.ports.find((port) => port !== from) ?? 0;
      await redis.cluster.moveSlot(slot, to);
      // The target node never ran the script: the resend goes by EVAL.
      await redis.cluster.cli(to, 'SCRIPT', 'FLUSH');
      const results = await adapter.execute([
        { kind: 'set-versioned', key, value: 'b', version: '3' },
        { kind: 'set-versioned', key, value: 'old', version: '2' },
        { kind: 'set', key: 'elsewhere', value: 'x' },
      ]);
      expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      expect(decodeEnvelope((await raw.get(key)) ?? '')).toEqual({ kind: 'value', version: '3', payload: 'b' });
    } finally {
      raw.disconnect();
      await adapter.close();
    }
  });
});
