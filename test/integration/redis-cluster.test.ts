import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { AnyCacheCommand, CacheCommand, CommandResult } from '../../src/core/commands.js';
import { decodeEnvelope } from '../../src/core/versioned.js';
import { keySlot, redisAdapter, type RedisClientLike, type RedisPipelineLike } from '../../src/adapters/redis/index.js';
import { useClusterWithClient, useStandaloneAndCluster } from '../helpers/redis-fixtures.js';

/**
 * A user client that records the keys of every pipeline exec and counts MOVED/ASK replies the
 * adapter saw, delegating to a real client.
 */
function countingClient(inner: Redis | Cluster): { client: RedisClientLike; execs: string[][]; redirects: () => number } {
  const execs: string[][] = [];
  let redirects = 0;
  const client: RedisClientLike = {
    get isCluster() {
      return inner.isCluster;
    },
    get slots() {
      return inner instanceof Cluster ? inner.slots : undefined;
    },
    get: (key) => inner.get(key),
    pipeline(): RedisPipelineLike {
      const pipeline = inner.pipeline();
      const keys: string[] = [];
      return {
        set(key: string, value: string, mode?: 'EX', seconds?: number) {
          keys.push(key);
          if (mode === undefined || seconds === undefined) pipeline.set(key, value);
          else pipeline.set(key, value, mode, seconds);
        },
        del(...delKeys: string[]) {
          keys.push(...delKeys);
          pipeline.del(...delKeys);
        },
        evalsha(sha: string, numKeys: number, ...args: string[]) {
          keys.push(args[0] ?? '');
          pipeline.evalsha(sha, numKeys, ...args);
        },
        eval(body: string, numKeys: number, ...args: string[]) {
          keys.push(args[0] ?? '');
          pipeline.eval(body, numKeys, ...args);
        },
        script(subcommand: 'LOAD', body: string) {
          pipeline.script(subcommand, body);
        },
        async exec() {
          if (keys.length > 0) execs.push(keys);
          const replies = await pipeline.exec();
          redirects += (replies ?? []).filter(([error]) => error !== null && /^(MOVED|ASK) /.test(error.message)).length;
          return replies;
        },
      };
    },
  };
  return { client, execs, redirects: () => redirects };
}

const allOk = (results: readonly CommandResult[]) => results.every((result) => result.ok);

async function commandsProcessed(cli: (...args: string[]) => Promise<string>): Promise<{ commands: number; reads: number }> {
  const stats = await cli('INFO', 'stats');
  const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(stats)?.[1] ?? Number.NaN);
  return { commands: field('total_commands_processed'), reads: field('total_reads_processed') };
}

describe('redisAdapter round trips', () => {
  const redis = useStandaloneAndCluster();

  it('sends a standalone batch as exactly one pipeline', async () => {
    const inner = new Redis(redis.server.port, redis.server.host);
    const { client, execs } = countingClient(inner);
    const adapter = redisAdapter({ client });
    try {
      const commands: CacheCommand[] = Array.from({ length: 500 }, (_, i) =>
        i % 5 === 4 ? { kind: 'delete', key: `rt:${i - 1}` } : { kind: 'set', key: `rt:${i}`, value: `v${i}`, ttlSeconds: 60 },
      );
      await inner.ping();
      const before = await commandsProcessed(redis.server.cli);
      expect(allOk(await adapter.execute(commands))).toBe(true);
      const after = await commandsProcessed(redis.server.cli);
      expect(execs).toHaveLength(1);
      expect(execs[0]).toEqual(commands.map((command) => command.key));
      // The server processed exactly our commands plus the INFO call of the measurement.
      expect(after.commands - before.commands).toBe(commands.length + 1);
      console.info(`standalone: 500 commands, 1 pipeline, ${after.reads - before.reads - 1} server read events`);
    } finally {
      await adapter.close();
      inner.disconnect();
    }
  });

  it('sends a cluster batch as one pipeline per node, each holding only that node’s keys', async () => {
    const inner = new Cluster([...redis.cluster.nodes]);
    const { client, execs } = countingClient(inner);
    const adapter = redisAdapter({ client });
    try {
      const commands: CacheCommand[] = [];
      for (let i = 0; i < 600; i++) {
        commands.push({ kind: 'set', key: `rt:${i}`, value: `v${i}` });
        if (i % 3 === 0) commands.push({ kind: 'delete', key: `rt:${i}` });
      }
      expect(allOk(await adapter.execute([{ kind: 'set', key: 'warm-up', value: '1' }]))).toBe(true);
      execs.length = 0;
      const owner = await redis.cluster.slotOwners();
      const results = await adapter.execute(commands);
      expect(allOk(results)).toBe(true);
      // One round trip per node: three masters, three pipelines, sent concurrently.
      expect(execs).toHaveLength(3);
      const nodesOfExecs = execs.map((keys) => new Set(keys.map((key) => owner(keySlot(key)))));
      for (const nodes of nodesOfExecs) expect(nodes.size).toBe(1);
      expect(new Set(nodesOfExecs.map((nodes) => [...nodes][0])).size).toBe(3);
      // Per-key order inside each pipeline is the batch order.
      for (const keys of execs) {
        const expected = commands.map((command) => command.key).filter((key) => keys.includes(key));
        expect(keys).toEqual(expected);
      }
      expect(await inner.get('rt:3')).toBeNull();
      expect(await inner.get('rt:4')).toBe('v4');
    } finally {
      await adapter.close();
      inner.disconnect();
    }
  });

  it('computes the same slot as the server for plain, tagged and unicode keys', async () => {
    const keys = [
      'foo',
      'user:42',
      '{user:42}:profile',
      'a{b}c{d}',
      '{}x',
      'x{}',
      '{{a}}',
      'ключ',
      '🔑:1',
      'k\u0000z',
      '',
      'a\uD800b',
      '{\uDC00}x',
      '{}}',
      '{}a}b',
    ];
    const node = new Redis(redis.cluster.ports[0] ?? 0, redis.cluster.host);
    try {
      for (const key of keys) expect(keySlot(key), JSON.stringify(key)).toBe(Number(await node.call('CLUSTER', 'KEYSLOT', key)));
    } finally {
      node.disconnect();
    }
  });
});

describe('redisAdapter when cluster slots move', () => {
  const redis = useClusterWithClient();

  async function otherNode(slot: number): Promise<number> {
    const from = await redis.cluster.ownerOf(slot);
    const to = redis.cluster.ports.find((port) => port !== from);
    if (to === undefined) throw new Error('no other node');
    return to;
  }

  it('applies a batch whose slot moved since the client cached the slot map (MOVED)', async () => {
    const { client, execs } = countingClient(new Cluster([...redis.cluster.nodes]));
    const adapter = redisAdapter({ client });
    try {
      const tag = '{moved-a}';
      const slot = keySlot(tag);
      expect(allOk(await adapter.execute([{ kind: 'set', key: `${tag}:0`, value: 'before' }]))).toBe(true);
      const to = await otherNode(slot);
      await redis.cluster.moveSlot(slot, to);
      execs.length = 0;
      const commands: CacheCommand[] = [
        { kind: 'set', key: `${tag}:0`, value: 'after' },
        { kind: 'set', key: 'elsewhere:1', value: 'x' },
        { kind: 'delete', key: `${tag}:1` },
        { kind: 'set', key: `${tag}:2`, value: 'two', ttlSeconds: 100 },
      ];
      const results = await adapter.execute(commands);
      expect(results).toEqual(commands.map(() => ({ ok: true })));
      expect((await redis.cluster.cli(to, 'GET', `${tag}:0`)).trim()).toBe('after');
      expect((await redis.cluster.cli(to, 'GET', `${tag}:2`)).trim()).toBe('two');
      // The stale pipeline met MOVED; ioredis followed it and refreshed its map.
      expect(execs.length).toBeGreaterThanOrEqual(2);
    } finally {
      await adapter.close();
    }
  });

  it('applies a batch while its slot is half migrated (ASK for keys already moved or new)', async () => {
    const adapter = redisAdapter({ url: redis.cluster.url, cluster: true });
    try {
      const tag = '{asking}';
      const slot = keySlot(tag);
      const keys = Array.from({ length: 6 }, (_, i) => `${tag}:${i}`);
      expect(allOk(await adapter.execute(keys.map((key) => ({ kind: 'set', key, value: 'old' }))))).toBe(true);
      const to = await otherNode(slot);
      await redis.cluster.beginSlotMigration(slot, to);
      // Move only keys 0..2 by hand: 3..5 stay on the source for now.
      const from = await redis.cluster.ownerOf(slot);
      await redis.cluster.cli(from, 'MIGRATE', redis.cluster.host, String(to), '', '0', '5000', 'KEYS', `${tag}:0`, `${tag}:1`, `${tag}:2`);
      const commands: CacheCommand[] = [
        { kind: 'set', key: `${tag}:0`, value: 'new0' }, // on target: ASK
        { kind: 'set', key: `${tag}:3`, value: 'new3' }, // on source: served there
        { kind: 'delete', key: `${tag}:4` }, // on source: served, then missing
        { kind: 'set', key: `${tag}:4`, value: 'new4' }, // now missing on source: ASK
        { kind: 'set', key: `${tag}:9`, value: 'new9' }, // new key: ASK
        { kind: 'delete', key: `${tag}:1` }, // on target: ASK
      ];
      const results = await adapter.execute(commands);
      expect(results).toEqual(commands.map(() => ({ ok: true })));
      await redis.cluster.migrateSlotKeys(slot, to);
      await redis.cluster.finishSlotMigration(slot, to);
      const read = async (key: string) => (await redis.cluster.cli(to, 'GET', key)).trim();
      expect(await read(`${tag}:0`)).toBe('new0');
      expect(await read(`${tag}:1`)).toBe('');
      expect(await read(`${tag}:2`)).toBe('old');
      expect(await read(`${tag}:3`)).toBe('new3');
      expect(await read(`${tag}:4`)).toBe('new4');
      expect(await read(`${tag}:9`)).toBe('new9');
    } finally {
      await adapter.close();
    }
  });

  it('never reports success for a write that is not the stored value while slots reshard mid-run', async () => {
    const { client, redirects } = countingClient(new Cluster([...redis.cluster.nodes], { redisOptions: { commandTimeout: 2_000 } }));
    const adapter = redisAdapter({ client });
    let redirectedBatches = 0;
    const tags = ['{hot-a}', '{hot-b}', '{hot-c}'];
    const keys = tags.flatMap((tag) => Array.from({ length: 40 }, (_, i) => `${tag}:${i}`));
    const outcomes = new Map<string, { value: string; ok: boolean }[]>(keys.map((key) => [key, []]));
    let batches = 0;
    let failures = 0;
    try {
      // Many keys per slot and a few keys per MIGRATE stretch each migration over many batches.
      await adapter.execute(keys.map((key) => ({ kind: 'set', key, value: 'seed' })));
      let resharding = true;
      const reshard = (async () => {
        try {
          for (let round = 0; round < 2; round++) {
            for (const tag of tags) {
              const slot = keySlot(tag);
              const to = await otherNode(slot);
              await redis.cluster.beginSlotMigration(slot, to);
              await redis.cluster.migrateSlotKeys(slot, to, 3);
              await redis.cluster.finishSlotMigration(slot, to);
            }
          }
        } finally {
          resharding = false;
        }
      })();
      while (resharding || batches < 5) {
        batches++;
        // Plain writes, a delete-then-set pair, and versioned writes (Lua, resent by EVAL).
        const commands: AnyCacheCommand[] = keys.flatMap((key, i): AnyCacheCommand[] =>
          i % 4 === 0
            ? [
                { kind: 'delete', key },
                { kind: 'set', key, value: `b${batches}` },
              ]
            : i % 4 === 1
              ? [{ kind: 'set-versioned', key, value: `b${batches}`, version: String(batches) }]
              : [{ kind: 'set', key, value: `b${batches}` }],
        );
        const redirectsBefore = redirects();
        const results = await adapter.execute(commands);
        // Part of this batch met MOVED/ASK and had to be resent by the adapter.
        if (redirects() > redirectsBefore) redirectedBatches++;
        expect(results).toHaveLength(commands.length);
        commands.forEach((command, i) => {
          const ok = results[i]?.ok === true;
          if (!ok) failures++;
          if (command.kind === 'set' || command.kind === 'set-versioned') outcomes.get(command.key)?.push({ value: command.value, ok });
        });
      }
      await reshard;
      for (const key of keys) {
        const rawValue = await redis.raw.get(key);
        const entry = rawValue === null ? undefined : decodeEnvelope(rawValue);
        const stored = entry?.kind === 'value' ? entry.payload : rawValue;
        const history = outcomes.get(key) ?? [];
        const lastOk = history.map((entry) => entry.ok).lastIndexOf(true);
        // Allowed: the last value reported written, or a later one whose outcome was unknown.
        const allowed = history.slice(Math.max(lastOk, 0)).map((entry) => entry.value);
        if (lastOk === -1) allowed.push('seed');
        expect(allowed, `${key} stored ${stored}`).toContain(stored);
        if (history.at(-1)?.ok) expect(stored).toBe(history.at(-1)?.value);
      }
      // The run must actually have crossed migrations, or it proves nothing.
      expect(redirectedBatches).toBeGreaterThan(0);
      console.info(
        `reshard mid-run: ${batches} batches of ${keys.length * 1.25} commands, ${redirectedBatches} needed redirects, ${failures} command failures reported`,
      );
    } finally {
      await adapter.close();
    }
  }, 60_000);
});
