import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { CacheAdapter, CacheCommand, CommandResult } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { ClientLoadError, ConfigError } from '../../src/errors.js';
import { createStreamHandler, createStreamProcessor } from '../../src/lambda/handler.js';
import type { Logger } from '../../src/lambda/logger.js';
import { event, insert, modify, remove } from '../helpers/records.js';
import { captureStdout } from '../helpers/stdout.js';

const user = { pk: 'u1', type: 'User', email: 'a@example.com', name: 'Ann' };
const rules: Rule[] = [
  { table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through', ttlSeconds: 300 },
  { table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user-by-email:${String(i['email'])}`, strategy: 'invalidate' },
];

/** A memory adapter that refuses commands for chosen keys: a unit-test double for partial failure. */
function refusing(keys: Set<string>, inner = memoryAdapter()): CacheAdapter & { seen: CacheCommand[][] } {
  const seen: CacheCommand[][] = [];
  return {
    name: 'refusing',
    seen,
    async execute(commands) {
      seen.push([...commands]);
      const allowed = commands.filter((c) => !keys.has(c.key));
      await inner.execute(allowed);
      return commands.map((c): CommandResult => (keys.has(c.key) ? { ok: false, error: new Error('refused') } : { ok: true }));
    },
    get: (key) => inner.get(key),
    close: async () => {},
  };
}

function recordingLogger(): Logger & { lines: { level: string; message: string; extra: unknown[] }[] } {
  const lines: { level: string; message: string; extra: unknown[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: unknown[]) =>
      lines.push({ level, message, extra });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const stdout = captureStdout();

describe('createStreamHandler', () => {
  it('applies a batch in order and reports no failures', async () => {
    const cache = memoryAdapter();
    const handler = createStreamHandler({ adapter: cache, rules, logger: false, metrics: false });
    await cache.execute([{ kind: 'set', key: 'user-by-email:b@example.com', value: 'stale' }]);
    const response = await handler(
      event(insert(user), modify(user, { ...user, email: 'b@example.com', name: 'Bea' }), insert({ pk: 'u2', type: 'User', email: 'c@example.com' })),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(JSON.parse((await cache.get('user:u1')) ?? '')).toMatchObject({ name: 'Bea', email: 'b@example.com' });
    expect(cache.ttl('user:u1')).toBe(300);
    expect(await cache.get('user-by-email:b@example.com')).toBeUndefined();
    expect(await cache.get('user:u2')).toBeDefined();
  });

  it('reports the earliest record whose commands failed so Lambda retries from there', async () => {
    const adapter = refusing(new Set(['user:u2', 'user:u3']));
    const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });
    const records = [insert(user), insert({ ...user, pk: 'u2' }), insert({ ...user, pk: 'u3' }), insert({ ...user, pk: 'u4' })];
    const response = await handler(event(...records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.dynamodb?.SequenceNumber }]);
  });

  it('replaying from the reported record, as Lambda does, ends with the same cache as a fault-free run', async () => {
    const faulty = new Set(['user:u2']);
    const cache = memoryAdapter();
    const adapter = refusing(faulty, cache);
    const handler = createStreamHandler({ adapter, rules, logger: false, metrics: false });
    const records = [
      insert(user),
      insert({ ...user, pk: 'u2', email: 'x@example.com' }),
      remove(user),
      modify({ ...user, pk: 'u2', email: 'x@example.com' }, { ...user, pk: 'u2', email: 'y@example.com' }),
    ];
    const first = await handler(event(...records));
    const from = records.findIndex((r) => r.dynamodb?.SequenceNumber === first.batchItemFailures[0]?.itemIdentifier);
    expect(from).toBe(1);
    faulty.clear();
    expect(await handler(event(...records.slice(from)))).toEqual({ batchItemFailures: [] });

    const clean = memoryAdapter();
    await createStreamHandler({ adapter: clean, rules, logger: false, metrics: false })(event(...records));
    expect(cache.keys().sort()).toEqual(clean.keys().sort());
    for (const key of clean.keys()) expect(await cache.get(key)).toBe(await clean.get(key));
  });

  it('treats a rejected adapter call as every command failed, never as success', async () => {
    const adapter: CacheAdapter = { name: 'down', execute: () => Promise.reject(new Error('ECONNREFUSED')), get: async () => undefined, close: async () => {} };
    const records = [insert(user), insert({ ...user, pk: 'u2' })];
    const response = await createStreamHandler({ adapter, rules, logger: false, metrics: false })(event(...records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }]);
  });

  it('treats missing results from an adapter as failures', async () => {
    const adapter: CacheAdapter = { name: 'short', execute: async () => [{ ok: true }], get: async () => undefined, close: async () => {} };
    const records = [insert(user), insert({ ...user, pk: 'u2' })];
    const response = await createStreamHandler({ adapter, rules, logger: false, metrics: false })(event(...records));
    // Each insert makes two commands (set + delete); record 0's second command has no result.
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }]);
  });

  it('reports an invalid record and does not execute records after it (onInvalidRecord: fail)', async () => {
    const adapter = refusing(new Set());
    const bad = insert(user);
    (bad.dynamodb as Record<string, unknown>)['NewImage'] = { pk: { N: 'nope' } };
    const records = [insert({ ...user, pk: 'u0' }), bad, insert({ ...user, pk: 'u2' })];
    const response = await createStreamHandler({ adapter, rules, logger: false, metrics: false })(event(...records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.dynamodb?.SequenceNumber }]);
    expect(adapter.seen.flat().map((c) => c.key)).toEqual(['user:u0', 'user-by-email:a@example.com']);
  });

  it('skips an invalid record with an error log under onInvalidRecord: skip', async () => {
    const logger = recordingLogger();
    const cache = memoryAdapter();
    const bad = insert(user);
    (bad.dynamodb as Record<string, unknown>)['SequenceNumber'] = 'x';
    const response = await createStreamHandler({ adapter: cache, rules, logger, metrics: false, onInvalidRecord: 'skip' })(
      event(bad, insert({ ...user, pk: 'u2' })),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await cache.get('user:u2')).toBeDefined();
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('fails the whole batch with an empty identifier when the invalid record has no SequenceNumber', async () => {
    const bad = insert(user);
    delete (bad.dynamodb as Record<string, unknown>)['SequenceNumber'];
    const response = await createStreamHandler({ adapter: memoryAdapter(), rules, logger: false, metrics: false })(event(bad));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '' }]);
  });

  it.each([undefined, null, 'x', {}, { Records: 'no' }])('never throws for an event that is not a stream event (%j)', async (bad) => {
    const handler = createStreamHandler({ adapter: memoryAdapter(), rules, logger: false, metrics: false });
    await expect(handler(bad as never)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
  });

  it('tolerates tumbling-window fields on the event', async () => {
    const handler = createStreamHandler({ adapter: memoryAdapter(), rules, logger: false, metrics: false });
    const windowed = {
      ...event(insert(user)),
      window: { start: 'a', end: 'b' },
      state: {},
      shardId: 's',
      eventSourceARN: 'x',
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    };
    await expect(handler(windowed)).resolves.toEqual({ batchItemFailures: [] });
  });

  it('logs no item contents by default, and keys only in debug mode', async () => {
    const logger = recordingLogger();
    const adapter = refusing(new Set(['user-by-email:a@example.com']));
    const bad = insert({ pk: 'u9', type: 'User', email: 'z@example.com' });
    (bad.dynamodb as Record<string, unknown>)['NewImage'] = { pk: { S: 'u9' }, email: { S: 'z@example.com' }, n: { N: 'bad' } };
    await createStreamHandler({ adapter, rules, logger, metrics: false, onInvalidRecord: 'skip' })(event(insert(user), bad));
    const logged = JSON.stringify(logger.lines);
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const secret of ['a@example.com', 'z@example.com', 'Ann']) expect(logged).not.toContain(secret);

    const debug = recordingLogger();
    await createStreamHandler({ adapter, rules, logger: debug, metrics: false, debugLogItemContents: true })(event(insert(user)));
    expect(JSON.stringify(debug.lines)).toContain('user:u1');
  });

  it('emits one CloudWatch EMF line per invocation with counts and stream lag', async () => {
    const handler = createStreamHandler({
      adapter: refusing(new Set(['user:u2'])),
      rules,
      logger: false,
      metrics: { namespace: 'Test', dimensions: { Service: 'users' } },
    });
    const created = Math.floor(Date.now() / 1000) - 60;
    await handler(event(insert(user, { createdAt: created }), insert({ ...user, pk: 'u2' }), remove(user)));
    const docs = stdout.map((l) => JSON.parse(l) as Record<string, unknown>).filter((d) => '_aws' in d);
    expect(docs).toHaveLength(1);
    const doc = docs[0] as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('Test');
    expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Adapter', 'Service']]);
    expect(doc).toMatchObject({ Adapter: 'refusing', Service: 'users', Records: 3, SetCommands: 2, DeleteCommands: 4, FailedCommands: 1, RetriedRecords: 2 });
    expect(doc['StreamLagMs']).toBeGreaterThanOrEqual(59_000);
  });
});

describe('createStreamProcessor', () => {
  it('returns per-record plans so an existing handler can merge its own failures', async () => {
    const processor = createStreamProcessor({ adapter: memoryAdapter(), rules, logger: false, metrics: false });
    const result = await processor.process(event(insert(user)));
    expect(result.records[0]?.commands).toHaveLength(2);
    expect(result.failedIndex).toBeUndefined();
  });
});

describe('config validation', () => {
  const make = (config: unknown) => () => createStreamHandler(config as never);

  const cases: [unknown, RegExp][] = [
    [{ rules }, /adapter: must be a cache adapter/],
    [{ adapter: memoryAdapter(), rules: [] }, /rules: must contain at least one rule/],
    [{ adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'write-thru' }] }, /rules\[0\]\.strategy: must be 'invalidate' or 'write-through'/],
    [{ adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'invalidate', ttl: 5 }] }, /rules\[0\]: unknown option "ttl"/],
    [{ adapter: memoryAdapter(), rules: [{ key: 'user', strategy: 'invalidate' }] }, /rules\[0\]\.key: must be a function/],
    [{ adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'invalidate', ttlSeconds: 1.5 }] }, /rules\[0\]\.ttlSeconds: must be a whole number/],
    [{ adapter: memoryAdapter(), rules, onInvalidRecord: 'drop' }, /onInvalidRecord: must be 'fail' or 'skip'/],
    [{ adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'invalidate', ttlSeconds: 0 }] }, /rules\[0\]\.ttlSeconds: must be positive; omit it/],
    [{ adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'invalidate', ttlSeconds: 2 ** 60 }] }, /rules\[0\]\.ttlSeconds: must be a whole number/],
    // One message per field: a fraction is not also reported as not positive.
    [
      { adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'invalidate', ttlSeconds: -1.5 }] },
      /rules\[0\]\.ttlSeconds: must be a whole number of seconds$/,
    ],
    [
      { adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'invalidate', tagTtlSeconds: '5' }] },
      /rules\[0\]\.tagTtlSeconds: must be a number of seconds/,
    ],
    [{ adapter: memoryAdapter(), rules, maxKeysPerRecord: 0 }, /maxKeysPerRecord: must be a positive integer/],
    [{ adapter: memoryAdapter(), rules, logger: { info: () => undefined } }, /logger: must be false or a logger with debug, info, warn and error methods/],
    [{ adapter: memoryAdapter(), rules, logger: true }, /logger: must be false or a logger/],
    [{ adapter: memoryAdapter(), rules, metrics: true }, /metrics: must be false or \{ namespace\?, dimensions\? \}/],
    [
      { adapter: memoryAdapter(), rules: [{ key: () => 'k', strategy: 'versioned', version: 'sequence' }] },
      /rules\[0\]\.version: must be 'sequenceNumber' or \{ attribute: 'name' \}/,
    ],
    [{ adapter: memoryAdapter(), rules, metrics: { dimensions: { Service: 1 } } }, /metrics: must be false or \{ namespace\?, dimensions\? \}/],
    [{ adapter: memoryAdapter(), rules, metrics: { dimensions: ['users'] } }, /metrics: must be false or \{ namespace\?, dimensions\? \}/],
  ];
  it.each(cases)('throws a ConfigError naming the path and the fix (%#)', (config, message) => {
    expect(make(config)).toThrow(ConfigError);
    expect(make(config)).toThrow(message);
  });

  it('keeps the zod error as cause and lists every problem', () => {
    try {
      createStreamHandler({ adapter: memoryAdapter(), rules: [{ key: 1, strategy: 'x' }] } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues).toHaveLength(2);
      expect((error as ConfigError).cause).toBeDefined();
    }
  });
});

describe('createStreamHandler: a client that cannot be loaded', () => {
  it('logs a configuration error at ERROR, not a cache-outage warning, and reports the record for retry', async () => {
    const loadError = new ClientLoadError('ioredis could not be loaded: fix your bundle', { packageName: 'ioredis', missing: false });
    const broken: CacheAdapter = {
      name: 'broken',
      execute: async () => {
        throw loadError;
      },
      get: async () => undefined,
      close: async () => {},
    };
    const logger = recordingLogger();
    const records = [insert(user)];
    const response = await createStreamHandler({ adapter: broken, rules, logger, metrics: false })(event(...records));
    expect(response.batchItemFailures).toHaveLength(1);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.message)).toEqual([expect.stringContaining('configuration error')]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('keeps an ordinary command failure a warning', async () => {
    const logger = recordingLogger();
    await createStreamHandler({ adapter: refusing(new Set(['user:u1'])), rules, logger, metrics: false })(event(insert(user)));
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });
});
