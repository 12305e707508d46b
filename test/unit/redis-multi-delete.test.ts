import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyCacheCommand, CacheCommand } from '../../src/core/commands.js';
import { keySlot, type PipelineReply, redisAdapter, type RedisClientLike, type RedisPipelineLike } from '../../src/adapters/redis/index.js';
import { MAX_KEYS_PER_DEL, mergeDeletes } from '../../src/adapters/redis/multi-delete.js';
import { CacheCommandError } from '../../src/errors.js';

type Args = readonly (string | number)[];

/** A plain-object client: records each pipeline's commands and answers through `respond`. */
function fakeClient(respond: (sent: readonly Args[], execIndex: number) => PipelineReply[], slots?: string[][]) {
  const pipelines: Args[][] = [];
  const client: RedisClientLike = {
    isCluster: slots !== undefined,
    slots,
    get: async () => null,
    pipeline(): RedisPipelineLike {
      const sent: Args[] = [];
      return {
        set: (key: string, value: string) => sent.push(['SET', key, value]),
        del: (...keys: string[]) => sent.push(['DEL', ...keys]),
        evalsha: (sha: string, numKeys: number, ...rest: string[]) => sent.push(['EVALSHA', sha, numKeys, ...rest]),
        script: () => sent.push(['SCRIPT']),
        async exec() {
          pipelines.push(sent);
          return respond(sent, pipelines.length - 1);
        },
      };
    },
  };
  return { client, pipelines };
}

/** What a server answers: OK to SET, to DEL the number of keys (all present). */
const ok = (sent: readonly Args[]): PipelineReply[] => sent.map((args) => [null, args[0] === 'SET' ? 'OK' : args.length - 1]);

function replyError(message: string): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return error;
}

const deletes = (n: number, prefix = 'k'): CacheCommand[] => Array.from({ length: n }, (_, i) => ({ kind: 'delete', key: `${prefix}${i}` }));

describe('redisAdapter multi-key DEL, standalone', () => {
  it(`sends an invalidate batch of N keys as ceil(N / ${MAX_KEYS_PER_DEL}) DELs, every key once, in batch order`, async () => {
    const { client, pipelines } = fakeClient(ok);
    const commands = deletes(1_200);
    const results = await redisAdapter({ client }).execute(commands);
    expect(results).toEqual(commands.map(() => ({ ok: true })));
    expect(pipelines).toHaveLength(1);
    const sent = pipelines[0] ?? [];
    expect(sent.map((args) => args.length - 1)).toEqual([512, 512, 176]);
    expect(sent.flatMap((args) => args.slice(1))).toEqual(commands.map((command) => command.key));
  });

  it('places a merged DEL where its first delete was and leaves keys with other commands to their own DEL', async () => {
    const { client, pipelines } = fakeClient(ok);
    const commands: CacheCommand[] = [
      { kind: 'set', key: 'a', value: '1' },
      { kind: 'delete', key: 'x' },
      { kind: 'set', key: 'b', value: '2' },
      { kind: 'delete', key: 'a' }, // a has a SET before it: stays in place
      { kind: 'delete', key: 'y' },
      { kind: 'delete', key: 'b' },
      { kind: 'set', key: 'b', value: '3' }, // b's DEL must stay before this SET
      { kind: 'delete', key: 'z' },
    ];
    const results = await redisAdapter({ client }).execute(commands);
    expect(results).toEqual(commands.map(() => ({ ok: true })));
    expect(pipelines[0]).toEqual([
      ['SET', 'a', '1'],
      ['DEL', 'x', 'y', 'z'],
      ['SET', 'b', '2'],
      ['DEL', 'a'],
      ['DEL', 'b'],
      ['SET', 'b', '3'],
    ]);
  });

  it('charges a refused multi-key DEL to every delete it carries, and no other command', async () => {
    const { client } = fakeClient((sent) =>
      sent.map(
        (args): PipelineReply => (args[0] === 'DEL' ? [replyError('NOPERM this user has no permissions to access one of the keys'), null] : [null, 'OK']),
      ),
    );
    const commands: CacheCommand[] = [{ kind: 'set', key: 's', value: '1' }, ...deletes(3)];
    const results = await redisAdapter({ client }).execute(commands);
    expect(results[0]).toEqual({ ok: true });
    for (const [i, result] of results.slice(1).entries()) {
      const error = result.ok ? undefined : result.error;
      expect(error).toBeInstanceOf(CacheCommandError);
      expect(error?.message).toMatch(/^Redis refused DEL key#[0-9a-f]+: NOPERM/);
      // Each failure names its own record's key.
      expect(error instanceof CacheCommandError && error.key).toBe(`k${i}`);
    }
  });

  it('reports every carried delete failed (unknown outcome) when the DEL gets no reply', async () => {
    const { client } = fakeClient((sent) => sent.map((args): PipelineReply => (args[0] === 'DEL' ? [new Error('Command timed out'), null] : [null, 'OK'])));
    const results = await redisAdapter({ client }).execute(deletes(4));
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.message).toMatch(/unknown outcome/);
    }
  });
});

describe('redisAdapter multi-key DEL, cluster', () => {
  const slots = Array.from({ length: 16_384 }, (_, slot) => [slot < 5461 ? 'n1:1' : slot < 10923 ? 'n2:2' : 'n3:3']);

  it('merges only deletes of one slot, and never a key ioredis may route elsewhere', async () => {
    const { client, pipelines } = fakeClient(ok, slots);
    const commands: CacheCommand[] = [
      ...deletes(3, '{t}:'),
      { kind: 'delete', key: 'plain' },
      { kind: 'delete', key: '{u}:0' },
      { kind: 'delete', key: 'x{}}' }, // ioredis hashes "" here, the server the whole key: sent alone
      { kind: 'delete', key: '{u}:1' },
    ];
    const results = await redisAdapter({ client }).execute(commands);
    expect(results).toEqual(commands.map(() => ({ ok: true })));
    const dels = pipelines.flat();
    expect(dels).toContainEqual(['DEL', '{t}:0', '{t}:1', '{t}:2']);
    expect(dels).toContainEqual(['DEL', '{u}:0', '{u}:1']);
    expect(dels).toContainEqual(['DEL', 'plain']);
    expect(pipelines).toContainEqual([['DEL', 'x{}}']]);
    for (const args of dels) expect(new Set(args.slice(1).map((key) => keySlot(String(key)))).size).toBe(1);
  });

  it('resends the deletes of a DEL refused with TRYAGAIN (slot migrating) one key at a time', async () => {
    const { client, pipelines } = fakeClient(
      (sent) =>
        sent.map((args): PipelineReply => (args.length > 2 ? [replyError('TRYAGAIN Multiple keys request during rehashing of slot'), null] : [null, 1])),
      slots,
    );
    const results = await redisAdapter({ client }).execute(deletes(3, '{t}:'));
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(pipelines).toEqual([
      [['DEL', '{t}:0', '{t}:1', '{t}:2']],
      [
        ['DEL', '{t}:0'],
        ['DEL', '{t}:1'],
        ['DEL', '{t}:2'],
      ],
    ]);
  });
});

describe('mergeDeletes', () => {
  it('merges nothing when fewer than two deletes, and ignores versioned deletes', () => {
    const commands: AnyCacheCommand[] = [
      { kind: 'delete', key: 'a' },
      { kind: 'delete-versioned', key: 'b', version: '1', tombstoneTtlSeconds: 60 },
      { kind: 'delete-versioned', key: 'c', version: '1', tombstoneTtlSeconds: 60 },
    ];
    const merged = mergeDeletes(commands, [0, 1, 2], false);
    expect(merged.leaders.size).toBe(0);
    expect(merged.followers.size).toBe(0);
  });
});

describe('redisAdapter multi-key DEL, model', () => {
  const command = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), value: fc.string({ maxLength: 3 }) }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h') }),
  );

  it('leaves the same cache as applying the batch one command at a time, for random batches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
        const store = new Map<string, string>(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((key) => [key, 'old']));
        const expected = new Map(store);
        for (const c of commands) {
          if (c.kind === 'set') expected.set(c.key, c.value);
          else expected.delete(c.key);
        }
        // A server: runs each pipeline entry in order against `store`.
        const { client } = fakeClient((sent) =>
          sent.map((args): PipelineReply => {
            const [name, ...rest] = args.map(String);
            if (name === 'SET') {
              store.set(rest[0] ?? '', rest[1] ?? '');
              return [null, 'OK'];
            }
            return [null, rest.filter((key) => store.delete(key)).length];
          }),
        );
        const results = await redisAdapter({ client }).execute(commands);
        expect(results).toEqual(commands.map(() => ({ ok: true })));
        expect(store).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
