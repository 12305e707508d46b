import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { CacheCommand, CommandResult } from '../../src/core/commands.js';
import { CacheCommandError, CacheUnavailableError, ConfigError } from '../../src/errors.js';
import { DELETE_VERSIONED, SET_VERSIONED } from '../../src/adapters/redis/scripts.js';
import {
  keySlot,
  type PipelineReply,
  redisAdapter,
  type RedisAdapterOptions,
  type RedisClientLike,
  type RedisPipelineLike,
} from '../../src/adapters/redis/index.js';
import { describeKey } from '../../src/core/key-hash.js';

/** A server reply error as ioredis raises it (redis-errors names it ReplyError). */
function replyError(message: string): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return error;
}

type Sent = { args: (string | number)[] };
type Responder = (sent: readonly Sent[], execIndex: number) => PipelineReply[] | null | Promise<PipelineReply[] | null>;

/** A plain-object client: records what each pipeline sent and answers through `respond`. */
function fakeClient(respond: Responder, cluster?: { slots: string[][] }) {
  const pipelines: Sent[][] = [];
  const client: RedisClientLike = {
    isCluster: cluster !== undefined,
    slots: cluster?.slots,
    get: async (key) => (key === 'present' ? 'value' : null),
    pipeline(): RedisPipelineLike {
      const sent: Sent[] = [];
      return {
        set(key: string, value: string, mode?: 'EX', seconds?: number) {
          sent.push({ args: mode === undefined ? ['SET', key, value] : ['SET', key, value, mode, seconds ?? -1] });
        },
        del(...keys: string[]) {
          sent.push({ args: ['DEL', ...keys] });
        },
        evalsha(sha: string, numKeys: number, ...rest: string[]) {
          sent.push({ args: ['EVALSHA', sha, numKeys, ...rest] });
        },
        eval(body: string, numKeys: number, ...rest: string[]) {
          sent.push({ args: ['EVAL', body.length > 0 ? '<body>' : '', numKeys, ...rest] });
        },
        script(subcommand: 'LOAD', body: string) {
          sent.push({ args: ['SCRIPT', subcommand, body.length > 0 ? '<body>' : ''] });
        },
        async exec() {
          pipelines.push(sent);
          return respond(sent, pipelines.length - 1);
        },
      };
    },
  };
  return { client, pipelines };
}

const okReplies: Responder = (sent) => sent.map(({ args }) => [null, args[0] === 'SET' ? 'OK' : args[0] === 'SCRIPT' ? 'sha' : 1]);

function failed(result: CommandResult | undefined): Error {
  if (!result || result.ok) throw new Error('expected a failed result');
  return result.error;
}

describe('redisAdapter with a standalone client', () => {
  it('sends the whole batch as one pipeline, in order, with EX only when a TTL is given', async () => {
    const { client, pipelines } = fakeClient(okReplies);
    const adapter = redisAdapter({ client });
    const results = await adapter.execute([
      { kind: 'set', key: 'a', value: '1', ttlSeconds: 30 },
      { kind: 'delete', key: 'b' },
      { kind: 'set', key: 'a', value: '2' },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(pipelines).toEqual([[{ args: ['SET', 'a', '1', 'EX', 30] }, { args: ['DEL', 'b'] }, { args: ['SET', 'a', '2'] }]]);
  });

  it('sends nothing for an empty batch', async () => {
    const { client, pipelines } = fakeClient(okReplies);
    expect(await redisAdapter({ client }).execute([])).toEqual([]);
    expect(pipelines).toHaveLength(0);
  });

  it('reports a server error reply as that command refused, with a hint, and the rest ok', async () => {
    const { client } = fakeClient((sent) =>
      sent.map(({ args }, i) =>
        i === 1 ? [replyError('NOPERM this user has no permissions to access one of the keys used as arguments'), null] : [null, args[0] === 'SET' ? 'OK' : 0],
      ),
    );
    const results = await redisAdapter({ client }).execute([
      { kind: 'set', key: 'ok:1', value: 'v' },
      { kind: 'set', key: 'secret:1', value: 'v' },
      { kind: 'delete', key: 'ok:2' },
    ]);
    expect(results[0]).toEqual({ ok: true });
    expect(results[2]).toEqual({ ok: true });
    const error = failed(results[1]);
    expect(error).toBeInstanceOf(CacheCommandError);
    expect(error).toMatchObject({ key: 'secret:1', command: 'SET' });
    expect(error.message).toMatch(new RegExp(`Redis refused SET ${describeKey('secret:1')}: NOPERM .*grant it with an ACL rule`));
    expect(error.cause).toMatchObject({ name: 'ReplyError' });
  });

  it('reports a non-reply error (timeout, closed connection) as unknown outcome with CacheUnavailableError', async () => {
    const { client } = fakeClient((sent) => sent.map((): PipelineReply => [new Error('Command timed out'), null]));
    const [result] = await redisAdapter({ client }).execute([{ kind: 'set', key: 'k', value: 'v' }]);
    const error = failed(result);
    expect(error.message).toMatch(/unknown outcome, reported failed: Redis did not answer: Command timed out \(no reply within/);
    expect(error.cause).toBeInstanceOf(CacheUnavailableError);
  });

  it.each<[string, unknown]>([
    ['null (SET NX-style refusal)', null],
    ['a string for DEL', 'OK'],
  ])('does not count an unexpected reply, %s, as success', async (_, reply) => {
    const { client } = fakeClient(() => [[null, reply]]);
    const command: CacheCommand = reply === null ? { kind: 'set', key: 'k', value: 'v' } : { kind: 'delete', key: 'k' };
    const [result] = await redisAdapter({ client }).execute([command]);
    expect(failed(result).message).toMatch(/unexpected reply/);
  });

  it('accepts DEL counts as strings (ioredis stringNumbers) and SET OK as a Buffer', async () => {
    const { client } = fakeClient(() => [
      [null, Buffer.from('OK')],
      [null, '1'],
    ]);
    const results = await redisAdapter({ client }).execute([
      { kind: 'set', key: 'k', value: 'v' },
      { kind: 'delete', key: 'k' },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
  });

  it('fails every command when exec rejects, resolves null, or returns too few replies', async () => {
    const commands: CacheCommand[] = [
      { kind: 'set', key: 'a', value: '1' },
      { kind: 'delete', key: 'b' },
    ];
    const rejecting = fakeClient(() => Promise.reject(new Error('Connection is closed.')));
    expect((await redisAdapter({ client: rejecting.client }).execute(commands)).map((r) => r.ok)).toEqual([false, false]);
    const aborted = fakeClient(() => null);
    expect((await redisAdapter({ client: aborted.client }).execute(commands)).map((r) => r.ok)).toEqual([false, false]);
    const short = fakeClient(() => [[null, 'OK']]);
    expect((await redisAdapter({ client: short.client }).execute(commands)).map((r) => r.ok)).toEqual([true, false]);
  });

  it('reads a value with get, absent as undefined, and leaves a user client open on close', async () => {
    const { client } = fakeClient(okReplies);
    const adapter = redisAdapter({ client });
    expect(await adapter.get('present')).toBe('value');
    expect(await adapter.get('absent')).toBeUndefined();
    await adapter.close();
    expect(await adapter.get('present')).toBe('value');
  });
});

describe('redisAdapter with a cluster client', () => {
  // Three nodes owning thirds of the slot space, like a fresh `redis-cli --cluster create`.
  const slots = Array.from({ length: 16_384 }, (_, slot) => [slot < 5461 ? 'n1:1' : slot < 10923 ? 'n2:2' : 'n3:3']);
  const nodeOf = (key: string) => slots[keySlot(key)]?.[0];

  it('sends one pipeline per node, keeping batch order within each, and maps results back', async () => {
    const { client, pipelines } = fakeClient(
      (sent) => sent.map(({ args }) => (args[1] === 'k7' ? [replyError('OOM command not allowed'), null] : [null, args[0] === 'SET' ? 'OK' : 1])),
      { slots },
    );
    const commands: CacheCommand[] = Array.from({ length: 40 }, (_, i) =>
      i % 4 === 3 ? { kind: 'delete', key: `k${i - 1}` } : { kind: 'set', key: `k${i}`, value: `v${i}` },
    );
    const results = await redisAdapter({ client }).execute(commands);
    expect(pipelines).toHaveLength(3);
    for (const sent of pipelines) {
      const keys = sent.map(({ args }) => String(args[1]));
      expect(new Set(keys.map(nodeOf)).size).toBe(1);
      expect(keys).toEqual(commands.map((c) => c.key).filter((key) => nodeOf(key) === nodeOf(keys[0] ?? '')));
    }
    commands.forEach((command, i) => expect(results[i]?.ok, command.key).toBe(command.key !== 'k7'));
  });

  it('resends commands refused with MOVED/ASK, grouped by slot, and reports them ok once applied', async () => {
    const { client, pipelines } = fakeClient(
      (sent, execIndex) =>
        sent.map(({ args }): PipelineReply => {
          if (execIndex < 3 && String(args[1]).startsWith('{m}')) return [replyError(`MOVED ${keySlot('{m}')} 127.0.0.1:7002`), null];
          return [null, args[0] === 'SET' ? 'OK' : 1];
        }),
      { slots },
    );
    const results = await redisAdapter({ client }).execute([
      { kind: 'set', key: '{m}a', value: '1' },
      { kind: 'set', key: 'other', value: '2' },
      { kind: 'delete', key: '{m}b' },
      { kind: 'set', key: '{m}a', value: '3' },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    const resent = pipelines.slice(-1)[0]?.map(({ args }) => args) ?? [];
    expect(resent).toEqual([
      ['SET', '{m}a', '1'],
      ['DEL', '{m}b'],
      ['SET', '{m}a', '3'],
    ]);
  });

  it('does not resend a redirected write when a later write to the same key already applied', async () => {
    const { client, pipelines } = fakeClient(
      (sent) => sent.map(({ args }, i): PipelineReply => (i === 0 ? [replyError('ASK 1 127.0.0.1:7003'), null] : [null, args[0] === 'SET' ? 'OK' : 1])),
      { slots },
    );
    const results = await redisAdapter({ client }).execute([
      { kind: 'set', key: 'same', value: 'old' },
      { kind: 'set', key: 'same', value: 'new' },
    ]);
    // Resending "old" now would overwrite "new": report it failed so the batch is retried in order.
    expect(results[1]).toEqual({ ok: true });
    expect(failed(results[0]).message).toMatch(/ASK .*slot kept moving/);
    expect(pipelines).toHaveLength(1);
  });

  it('gives up after a few redirect rounds and reports the commands failed', async () => {
    const { client, pipelines } = fakeClient(() => [[replyError('MOVED 1 127.0.0.1:7001'), null]], { slots });
    const [result] = await redisAdapter({ client }).execute([{ kind: 'set', key: 'k', value: 'v' }]);
    expect(failed(result).message).toMatch(/MOVED/);
    expect(pipelines).toHaveLength(4);
  });

  it('waits for the slot map with an empty pipeline when the client has not connected yet', async () => {
    const lazySlots: string[][] = [];
    const { client, pipelines } = fakeClient(
      (sent) => {
        if (sent.length === 0) lazySlots.push(...slots);
        return okReplies(sent, 0);
      },
      { slots: lazySlots },
    );
    const results = await redisAdapter({ client }).execute([
      { kind: 'set', key: 'a', value: '1' },
      { kind: 'set', key: 'b', value: '2' },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(pipelines[0]).toEqual([]);
  });
});

describe('redisAdapter options', () => {
  it.each<[string, RedisAdapterOptions, RegExp]>([
    ['a url that does not parse', { url: 'not a url' }, /url: not a valid URL/],
    ['an unsupported scheme', { url: 'http://localhost:6379' }, /scheme http: is not supported/],
    ['a non-numeric database', { url: 'redis://localhost:6379/x' }, /database "x"/],
    ['a database with cluster mode', { url: 'redis://localhost:6379/2', cluster: true }, /Cluster only has database 0/],
    ['a zero timeout', { url: 'redis://localhost', connectTimeoutMs: 0 }, /connectTimeoutMs: must be a positive number/],
    ['a NaN timeout', { url: 'redis://localhost', commandTimeoutMs: Number.NaN }, /commandTimeoutMs: must be a positive number/],
    // TLS comes from the url scheme and the tls option only; spread over the adapter's options,
    // even `tls: undefined` would make ioredis connect in plaintext.
    [
      'clientOptions.tls, even undefined',
      { url: 'rediss://h', clientOptions: { tls: undefined } },
      /clientOptions\.tls: not accepted: TLS is decided by the url scheme/,
    ],
    ['clientOptions.tls with redis://', { url: 'redis://h', clientOptions: { tls: {} } }, /clientOptions\.tls: not accepted/],
    [
      'clientOptions.redisOptions.tls (cluster)',
      { url: 'rediss://h', cluster: true, clientOptions: { redisOptions: { tls: false } } },
      /clientOptions\.redisOptions\.tls: not accepted/,
    ],
    ['clientOptions.Connector', { url: 'rediss://h', clientOptions: { Connector: class {} } }, /clientOptions\.Connector: not accepted/],
    ['a tls option that is not an object', { url: 'rediss://h', tls: false as unknown as object }, /tls: must be an object of tls\.connect options/],
    [
      'tls.rejectUnauthorized: false',
      { url: 'rediss://h', tls: { rejectUnauthorized: false } },
      /tls\.rejectUnauthorized: certificate verification cannot be switched off/,
    ],
    [
      'tls.rejectUnauthorized: undefined (read as false by tls.connect)',
      { url: 'rediss://h', tls: { rejectUnauthorized: undefined } },
      /tls\.rejectUnauthorized/,
    ],
  ])('rejects %s at creation with a ConfigError naming the option', (_, options, message) => {
    expect(() => redisAdapter(options)).toThrow(ConfigError);
    expect(() => redisAdapter(options)).toThrow(message);
  });

  it('rejects a client without pipeline() and get()', () => {
    const notAClient = { get: async () => null } as unknown as RedisClientLike;
    expect(() => redisAdapter({ client: notAClient })).toThrow(/client: must have pipeline\(\) and get\(key\)/);
  });

  it('accepts valid urls without connecting', () => {
    for (const url of ['redis://localhost', 'rediss://user:p%40ss@cache.example.com:6380/3', 'valkey://[::1]:7000', 'valkeys://h']) {
      expect(redisAdapter({ url }).name).toBe('redis');
    }
  });

  it('accepts tls options that keep verification on, and other clientOptions', () => {
    expect(redisAdapter({ url: 'rediss://h', tls: { ca: 'x', servername: 'cache.example.com', rejectUnauthorized: true } }).name).toBe('redis');
    expect(redisAdapter({ url: 'rediss://h', tls: undefined, clientOptions: { connectionName: 'n', redisOptions: { keepAlive: 1 } } }).name).toBe('redis');
  });

  it('lists every problem at once', () => {
    expect(() => redisAdapter({ url: 'rediss://h', tls: { rejectUnauthorized: false }, clientOptions: { tls: undefined } })).toThrow(
      /clientOptions\.tls.*; tls\.rejectUnauthorized/,
    );
  });

  it('loads ioredis only by dynamic import, so a user-client adapter never pulls it in', async () => {
    for (const file of ['index.ts', 'execute.ts', 'client.ts', 'slot.ts', 'connection.ts', 'reset.ts', 'clean-error.ts', 'scripts.ts']) {
      const source = await readFile(new URL(`../../src/adapters/redis/${file}`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/^import (?!type )[^;]*from 'ioredis'/m);
    }
  });
});

describe('redisAdapter versioned commands', () => {
  it('declares the versioned capability', () => {
    expect(redisAdapter({ client: fakeClient(okReplies).client }).capabilities).toEqual({ versioned: true });
  });

  it('loads each script once at the head of the pipeline, then runs EVALSHA with TTLs in ms', async () => {
    const { client, pipelines } = fakeClient(okReplies);
    const results = await redisAdapter({ client }).execute([
      { kind: 'set-versioned', key: 'a', value: 'v', version: '12', ttlSeconds: 30 },
      { kind: 'set', key: 'b', value: 'plain' },
      { kind: 'delete-versioned', key: 'a', version: '13', tombstoneTtlSeconds: 600 },
      { kind: 'set-versioned', key: 'c', value: 'w', version: '1' },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(pipelines).toEqual([
      [
        { args: ['SCRIPT', 'LOAD', '<body>'] },
        { args: ['SCRIPT', 'LOAD', '<body>'] },
        { args: ['EVALSHA', SET_VERSIONED.sha, 1, 'a', '12', 'v', '30000'] },
        { args: ['SET', 'b', 'plain'] },
        { args: ['EVALSHA', DELETE_VERSIONED.sha, 1, 'a', '13', '600000'] },
        { args: ['EVALSHA', SET_VERSIONED.sha, 1, 'c', '1', 'w', ''] },
      ],
    ]);
  });

  it('counts a versioned write refused as older (0) as success', async () => {
    const { client } = fakeClient((sent) => sent.map(({ args }) => [null, args[0] === 'SCRIPT' ? 'sha' : 0]));
    expect(await redisAdapter({ client }).execute([{ kind: 'set-versioned', key: 'a', value: 'v', version: '1' }])).toEqual([{ ok: true }]);
  });

  it('resends by EVAL what a node answered NOSCRIPT to, unless a later write to the key applied', async () => {
    const { client, pipelines } = fakeClient((sent, execIndex) =>
      sent.map(({ args }): PipelineReply => {
        if (execIndex === 0 && args[0] === 'EVALSHA') return [replyError('NOSCRIPT No matching script. Please use EVAL.'), null];
        return [null, args[0] === 'SET' ? 'OK' : 1];
      }),
    );
    const results = await redisAdapter({ client }).execute([
      { kind: 'set-versioned', key: 'x', value: '1', version: '1' },
      { kind: 'set-versioned', key: 'y', value: '1', version: '1' },
      { kind: 'set', key: 'y', value: 'plain-after' },
    ]);
    expect(results[0]).toEqual({ ok: true });
    // Resending y's versioned write now would land after the plain SET that followed it.
    expect(failed(results[1]).message).toMatch(/NOSCRIPT/);
    expect(results[2]).toEqual({ ok: true });
    expect(pipelines[1]).toEqual([{ args: ['EVAL', '<body>', 1, 'x', '1', '1', ''] }]);
  });

  it('refuses a non-canonical version without sending it', async () => {
    const { client, pipelines } = fakeClient(okReplies);
    const [result] = await redisAdapter({ client }).execute([{ kind: 'set-versioned', key: 'a', value: 'v', version: '007' }]);
    expect(failed(result).message).toMatch(/version \(string of 3 characters\) is not a canonical decimal integer/);
    expect(pipelines).toHaveLength(0);
  });

  it('reports versioned commands failed on a client without evalsha/eval, and still runs the rest', async () => {
    const sent: string[] = [];
    const client: RedisClientLike = {
      get: async () => null,
      pipeline: () => ({
        set: (key: string) => sent.push(key),
        del: (key: string) => sent.push(key),
        exec: async () => sent.map((): PipelineReply => [null, 'OK']),
      }),
    };
    const results = await redisAdapter({ client }).execute([
      { kind: 'set-versioned', key: 'a', value: 'v', version: '1' },
      { kind: 'set', key: 'b', value: 'v' },
    ]);
    expect(failed(results[0]).message).toMatch(/no evalsha\/eval/);
    expect(results[1]).toEqual({ ok: true });
  });

  it('answers lease and fill from the script replies, falling back to EVAL on NOSCRIPT', async () => {
    const { client, pipelines } = fakeClient((sent, execIndex) =>
      sent.map(({ args }): PipelineReply => {
        if (args[0] === 'EVALSHA' && execIndex === 0) return [replyError('NOSCRIPT No matching script.'), null];
        if (execIndex === 1) return [null, [1]];
        if (execIndex === 2) return [null, [0, '\u001ev5\u001fx']];
        return [null, 1];
      }),
    );
    const adapter = redisAdapter({ client });
    expect(await adapter.lease('k', 'tok', 5_000)).toEqual({ granted: true });
    expect(await adapter.lease('k', 'tok2', 5_000)).toEqual({ granted: false, stored: '\u001ev5\u001fx' });
    expect(await adapter.fill('k', 'tok', 'value', { ttlSeconds: 60, version: '9' })).toBe(true);
    expect(pipelines.map((p) => p.map(({ args }) => args[0]))).toEqual([['EVALSHA'], ['EVAL'], ['EVALSHA'], ['EVALSHA']]);
    expect(pipelines[3]?.[0]?.args.slice(2)).toEqual([1, 'k', 'tok', 'f', 'value', '60000', '9']);
    await expect(adapter.fill('k', 'tok', 'v', { version: '1.5' })).rejects.toThrow(CacheCommandError);
    await expect(adapter.lease('k', 'tok', 0)).rejects.toThrow(/positive duration/);
  });
});
