/**
 * No item contents in logs or error messages by default. Cache keys are built from item data
 * (an email, a name), so they count as item contents too. Every line the handler writes is
 * checked: the default JSON logger on stdout, a Powertools-style logger, and the EMF metrics
 * line, across invalid records, rule functions that throw with item data in their message, and
 * failed commands carrying the errors the real adapters produce.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import { MemcachedValueTooLargeError } from '../../src/adapters/memcached/errors.js';
import { failure as redisFailure } from '../../src/adapters/redis/execute.js';
import type { CacheAdapter, CacheCommand, CommandResult } from '../../src/core/commands.js';
import type { Rule } from '../../src/core/rules.js';
import { CacheCommandError, CacheUnavailableError, ValueTooLargeError } from '../../src/errors.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import type { Logger } from '../../src/lambda/logger.js';
import { event, insert, modify } from '../helpers/records.js';
import { captureStdout } from '../helpers/stdout.js';

const SECRETS = ['alice.secret@example.com', 'Alice Secretname', 'hunter2-secret', 'pk-secret-77', 'bob.secret@example.com'];
const alice = { pk: 'pk-secret-77', type: 'User', email: 'alice.secret@example.com', name: 'Alice Secretname', password: 'hunter2-secret' };

const rules: Rule[] = [
  { name: 'by-id', table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through', ttlSeconds: 60 },
  { name: 'by-email', table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user-by-email:${String(i['email'])}`, strategy: 'invalidate' },
  {
    name: 'buggy',
    table: 'App',
    when: (i) => i['name'] === 'boom',
    // A rule bug whose message carries item data, as `${item.email} has no tenant` would.
    key: (i) => {
      throw new TypeError(`cannot build key for ${String(i['email'])} / ${String(i['password'])}`);
    },
    strategy: 'invalidate',
  },
];

/** Errors exactly as the adapters build them, for every command: each names the key in its message. */
type ErrorFactory = (command: CacheCommand) => Error;
const ADAPTER_ERRORS: [string, ErrorFactory][] = [
  [
    'redis: refused',
    (c) =>
      (
        redisFailure(c, Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), { name: 'ReplyError' }), true) as {
          error: Error;
        }
      ).error,
  ],
  ['redis: outcome unknown', (c) => (redisFailure(c, new Error('Command timed out'), false) as { error: Error }).error],
  [
    // A script (versioned command) that got no reply: the key is in the cause's message too.
    'redis: script without reply',
    (c) =>
      (
        redisFailure(
          c,
          new CacheUnavailableError(`Redis did not answer set-versioned script on ${JSON.stringify(c.key)}: Command timed out`, { adapter: 'redis' }),
          false,
        ) as { error: Error }
      ).error,
  ],
  [
    'memcached: value too large',
    (c) => new MemcachedValueTooLargeError({ key: c.key, bytes: 2_000_000, limit: 1_000_000, refusedBy: 'server', removed: true }),
  ],
  ['core: value too large', (c) => new ValueTooLargeError({ key: c.key, bytes: 2_000_000, limit: 1_000_000 })],
  [
    'memcached: outcome unknown',
    (c) =>
      new CacheCommandError(`memcached ${c.kind} of key ${JSON.stringify(c.key)} failed, outcome unknown: socket hang up`, { key: c.key, command: c.kind }),
  ],
  [
    // A raw ioredis ReplyError carries the command with its arguments (key and value).
    'raw ioredis ReplyError',
    (c) => Object.assign(new Error('ERR something'), { name: 'ReplyError', command: { name: c.kind, args: c.kind === 'set' ? [c.key, c.value] : [c.key] } }),
  ],
];

function failingAdapter(factory: ErrorFactory): CacheAdapter {
  return {
    name: 'failing',
    execute: async (commands) => commands.map((c): CommandResult => ({ ok: false, error: factory(c) })),
    get: async () => undefined,
    close: async () => {},
  };
}

function recordingLogger(): Logger & { text: () => string } {
  const lines: unknown[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, extra });
  return { text: () => JSON.stringify(lines), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Records that exercise every log path: valid ones (commands), malformed ones, and a throwing rule. */
function hostileBatch(): unknown[] {
  const malformed = structuredClone(insert({ ...alice, pk: 'pk-secret-78' })) as unknown as { dynamodb: { NewImage: Record<string, unknown> } };
  malformed.dynamodb.NewImage['age'] = { N: 'not a number' };
  const unknownEvent = structuredClone(insert(alice)) as unknown as Record<string, unknown>;
  unknownEvent['eventName'] = 'UNKNOWN_TO_SDK_VERSION';
  const missing = insert({ pk: 'pk-secret-77', type: 'User', name: 'Alice Secretname' }); // no email: key would hold "undefined"
  return [insert(alice), modify(alice, { ...alice, email: 'bob.secret@example.com' }), malformed, unknownEvent, missing, insert({ ...alice, name: 'boom' })];
}

const stdout = captureStdout();
afterEach(() => vi.unstubAllEnvs());

function expectNoSecrets(text: string, where: string): void {
  for (const secret of SECRETS) expect(text, `${where} leaks ${secret}`).not.toContain(secret);
}

describe('no item contents in logs by default', () => {
  it.each(['fail', 'skip'] as const)('default JSON logger at DEBUG, invalid records and a throwing rule (onInvalidRecord: %s)', async (policy) => {
    vi.stubEnv('LOG_LEVEL', 'DEBUG');
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'DEBUG');
    const result = await createStreamProcessor({ adapter: memoryAdapter(), rules, onInvalidRecord: policy }).process({ Records: hostileBatch() });
    expect(result.metrics.InvalidRecords).toBe(4);
    const out = stdout.join('');
    expect(out).toContain('InvalidRecordError'); // the errors were logged...
    expectNoSecrets(out, 'stdout'); // ...without item data
    for (const plan of result.records) if (plan.error) expectNoSecrets(plan.error.message, `InvalidRecordError for record ${plan.index}`);
  });

  it.each(ADAPTER_ERRORS)('failed commands with the %s error: no key or value in any log line', async (_, factory) => {
    vi.stubEnv('LOG_LEVEL', 'DEBUG');
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'DEBUG');
    const logger = recordingLogger();
    const records = [insert(alice), modify(alice, { ...alice, email: 'bob.secret@example.com' })];
    const viaLogger = await createStreamProcessor({ adapter: failingAdapter(factory), rules, logger }).process({ Records: records });
    const viaStdout = await createStreamProcessor({ adapter: failingAdapter(factory), rules }).process({ Records: records });
    expect(viaLogger.metrics.FailedCommands).toBeGreaterThan(0);
    expect(viaStdout.batchItemFailures).toEqual([{ itemIdentifier: (records[0] as DynamoDBRecord).dynamodb?.SequenceNumber }]);
    expect(logger.text()).toContain('cache commands failed');
    expectNoSecrets(logger.text(), 'logger');
    expectNoSecrets(stdout.join(''), 'stdout');
  });

  it('an adapter that rejects with a key in its message: the handler log does not repeat it', async () => {
    const adapter: CacheAdapter = {
      name: 'rejecting',
      execute: (commands) =>
        Promise.reject(new CacheCommandError(`cannot write ${JSON.stringify(commands[0]?.key)}`, { key: commands[0]?.key ?? '', command: 'set' })),
      get: async () => undefined,
      close: async () => {},
    };
    const logger = recordingLogger();
    const result = await createStreamProcessor({ adapter, rules, logger, metrics: false }).process(event(insert(alice)));
    expect(result.failedIndex).toBe(0);
    expect(logger.text()).toContain('cache commands failed');
    expectNoSecrets(logger.text(), 'logger');
  });

  it('the EMF metrics line carries counts and dimensions only', async () => {
    await createStreamProcessor({ adapter: memoryAdapter(), rules, logger: false, metrics: { namespace: 'T' } }).process({ Records: hostileBatch() });
    const emf = stdout.filter((l) => l.includes('"_aws"'));
    expect(emf).toHaveLength(1);
    expectNoSecrets(emf.join(''), 'EMF line');
  });
});

describe('debugLogItemContents: true (opt-in)', () => {
  it('shows cache keys at debug level, never cached values', async () => {
    const logger = recordingLogger();
    await createStreamProcessor({ adapter: memoryAdapter(), rules, logger, metrics: false, debugLogItemContents: true }).process(event(insert(alice)));
    expect(logger.text()).toContain('user-by-email:alice.secret@example.com');
    expect(logger.text()).toContain('user:pk-secret-77');
    // The password is only in the cached value, which is never logged.
    expect(logger.text()).not.toContain('hunter2-secret');
  });

  it('is off by default', async () => {
    const logger = recordingLogger();
    await createStreamProcessor({ adapter: memoryAdapter(), rules, logger, metrics: false }).process(event(insert(alice)));
    expectNoSecrets(logger.text(), 'logger');
  });
});
