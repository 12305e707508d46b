import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { CacheAdapter } from '../../src/core/commands.js';
import type { AttributeMap, Rule } from '../../src/core/rules.js';
import { valueEnvelope } from '../../src/core/versioned.js';
import { ConfigError } from '../../src/errors.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import type { Logger } from '../../src/lambda/logger.js';
import { createConsistencyMonitor, keyHash, type ConsistencyMonitorOptions } from '../../src/monitor/index.js';
import { av, event, insert, modify, remove } from '../helpers/records.js';

const past = () => Math.floor(Date.now() / 1000) - 60;
const writeThrough: Rule = { name: 'users', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through' };
const invalidate: Rule = { name: 'users', key: (i) => `user:${String(i['pk'])}`, strategy: 'invalidate' };
const versioned: Rule = { name: 'users', key: (i) => `user:${String(i['pk'])}`, strategy: 'versioned', version: 'sequenceNumber' };

/** A table of plain items by pk, answering `load` as GetItem would. */
function table(items: Record<string, Record<string, string | number>> = {}) {
  const reads: string[] = [];
  return {
    items,
    reads,
    load: async (name: string, keys: AttributeMap): Promise<AttributeMap | undefined> => {
      const pk = (keys['pk'] as { S: string }).S;
      reads.push(`${name}/${pk}`);
      const item = items[pk];
      return item === undefined ? undefined : av(item);
    },
  };
}

function capture(): { logger: Logger; lines: { level: string; message: string; extra: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      void lines.push({ level, message, extra: Object.assign({}, ...extra) });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function monitorOf(options: Partial<ConsistencyMonitorOptions> & Pick<ConsistencyMonitorOptions, 'adapter' | 'rules'>) {
  return createConsistencyMonitor({ graceMs: 0, confirmMs: 0, metrics: false, logger: false, ...options });
}

afterEach(() => vi.restoreAllMocks());

describe('createConsistencyMonitor', () => {
  it('finds a planted stale entry: an older image written back after the handler applied the record', async () => {
    const adapter = memoryAdapter();
    const { logger, lines } = capture();
    const db = table({ '1': { pk: '1', v: 2, email: 'a@example.com' } });
    const records = event(modify({ pk: '1', v: 1, email: 'a@example.com' }, { pk: '1', v: 2, email: 'a@example.com' }, { createdAt: past() }));
    await createStreamProcessor({ adapter, rules: [writeThrough], logger: false, metrics: false }).process(records);
    await adapter.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 1, email: 'a@example.com' }) }]);

    const report = await monitorOf({ adapter, rules: [writeThrough], load: db.load, logger }).check(records);

    expect(report).toMatchObject({ checked: 1, stale: 1, unchecked: 0, repaired: 0 });
    expect(report.findings).toEqual([
      expect.objectContaining({ rule: 'users', keyHash: keyHash('user:1'), reason: 'differs-from-record-and-table', repaired: false }),
    ]);
    const logged = JSON.stringify(lines);
    expect(logged).toContain(keyHash('user:1'));
    expect(logged).not.toContain('user:1');
    expect(logged).not.toContain('a@example.com');
  });

  it('reports a cache that agrees with the record as consistent without reading the table', async () => {
    const adapter = memoryAdapter();
    const db = table({ '1': { pk: '1', v: 2 } });
    const records = event(insert({ pk: '1', v: 2 }, { createdAt: past() }));
    await createStreamProcessor({ adapter, rules: [writeThrough], logger: false, metrics: false }).process(records);

    const report = await monitorOf({ adapter, rules: [writeThrough], load: db.load }).check(records);

    expect(report).toMatchObject({ checked: 1, stale: 0, unchecked: 0 });
    expect(db.reads).toEqual([]);
  });

  it('reports a value newer than the record (the table moved on) as consistent', async () => {
    const adapter = memoryAdapter();
    const db = table({ '1': { pk: '1', v: 3 } });
    await adapter.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 3 }) }]);

    const report = await monitorOf({ adapter, rules: [writeThrough], load: db.load }).check(event(insert({ pk: '1', v: 2 }, { createdAt: past() })));

    expect(report).toMatchObject({ checked: 1, stale: 0 });
    expect(db.reads).toEqual(['App/1']);
  });

  it('finds a versioned value older than the record without reading the table', async () => {
    const adapter = memoryAdapter();
    const load = vi.fn(async () => {
      throw new Error('the table must not be read');
    });
    const record = insert({ pk: '1', v: 2 }, { createdAt: past(), sequenceNumber: '500' });
    await adapter.execute([{ kind: 'set', key: 'user:1', value: valueEnvelope('499', JSON.stringify({ pk: '1', v: 1 })) }]);

    const report = await monitorOf({ adapter, rules: [versioned], load }).check(event(record));

    expect(report).toMatchObject({ checked: 1, stale: 1, unchecked: 0 });
    expect(report.findings[0]?.reason).toBe('older-version');
    expect(load).not.toHaveBeenCalled();
  });

  it('finds the value of a deleted item stale', async () => {
    const adapter = memoryAdapter();
    await adapter.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 1 }) }]);

    const report = await monitorOf({ adapter, rules: [writeThrough], load: table().load }).check(event(remove({ pk: '1', v: 1 }, { createdAt: past() })));

    expect(report).toMatchObject({ checked: 1, stale: 1 });
  });

  it('compares invalidate keys with what readers fill: the rule encoding of the record or the table item', async () => {
    const adapter = memoryAdapter();
    const db = table({ '1': { pk: '1', v: 2 }, '2': { pk: '2', v: 5 } });
    await adapter.execute([
      { kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 2 }) },
      { kind: 'set', key: 'user:2', value: JSON.stringify({ pk: '2', v: 4 }) },
    ]);
    const records = event(
      modify({ pk: '1', v: 1 }, { pk: '1', v: 2 }, { createdAt: past() }),
      modify({ pk: '2', v: 4 }, { pk: '2', v: 5 }, { createdAt: past() }),
    );

    const report = await monitorOf({ adapter, rules: [invalidate], load: db.load }).check(records);

    expect(report).toMatchObject({ checked: 2, stale: 1 });
    expect(report.findings.map((f) => f.keyHash)).toEqual([keyHash('user:2')]);
  });

  it('counts a failed table read as unchecked, never stale, and asks Lambda for no retry', async () => {
    const adapter = memoryAdapter();
    await adapter.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 1 }) }]);
    const load = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    const records = event(insert({ pk: '1', v: 2 }, { createdAt: past() }));
    const monitor = monitorOf({ adapter, rules: [writeThrough], load });

    expect(await monitor.check(records)).toMatchObject({ checked: 0, stale: 0, unchecked: 1 });
    expect(await monitor.handler(records)).toEqual({ batchItemFailures: [] });
  });

  it('counts a failed cache read as unchecked', async () => {
    const inner = memoryAdapter();
    const adapter: CacheAdapter = {
      name: 'broken',
      execute: (c) => inner.execute(c),
      close: () => inner.close(),
      get: async () => Promise.reject(new Error('ECONNRESET')),
    };

    const report = await monitorOf({ adapter, rules: [writeThrough], load: table().load }).check(event(insert({ pk: '1', v: 2 }, { createdAt: past() })));

    expect(report).toMatchObject({ checked: 0, stale: 0, unchecked: 1 });
  });

  it('honours ttlDeletes: ignore as the handler does (a TTL delete leaves the key, and that is not stale)', async () => {
    const adapter = memoryAdapter();
    await adapter.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 1 }) }]);
    const records = event(remove({ pk: '1', v: 1 }, { createdAt: past(), ttl: true }));

    const ignoring = await monitorOf({ adapter, rules: [writeThrough], ttlDeletes: 'ignore', load: table().load }).check(records);
    const applying = await monitorOf({ adapter, rules: [writeThrough], load: table().load }).check(records);

    expect(ignoring).toMatchObject({ checked: 0, stale: 0 });
    expect(applying).toMatchObject({ checked: 1, stale: 1 });
  });

  it('never writes to the cache unless repair is on; with repair it deletes the stale key and counts it', async () => {
    const inner = memoryAdapter();
    const executed: string[] = [];
    const adapter = Object.assign(Object.create(inner) as typeof inner, {
      name: inner.name,
      execute: (commands: Parameters<typeof inner.execute>[0]) => {
        executed.push(...commands.map((c) => c.kind));
        return inner.execute(commands);
      },
    });
    await inner.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 1 }) }]);
    const records = event(remove({ pk: '1', v: 1 }, { createdAt: past() }));

    const watching = await monitorOf({ adapter, rules: [writeThrough], load: table().load }).check(records);
    expect(watching).toMatchObject({ stale: 1, repaired: 0 });
    expect(executed).toEqual([]);

    const repairing = await monitorOf({ adapter, rules: [writeThrough], load: table().load, repair: true }).check(records);
    expect(repairing).toMatchObject({ stale: 1, repaired: 1 });
    expect(executed).toEqual(['delete']);
    expect(await inner.get('user:1')).toBeUndefined();
  });

  it('repairs a versioned key with a tombstone at the record version, which a late older write cannot pass', async () => {
    const adapter = memoryAdapter();
    await adapter.execute([{ kind: 'set', key: 'user:1', value: valueEnvelope('499', '{"pk":"1"}') }]);

    const report = await monitorOf({ adapter, rules: [versioned], load: table().load, repair: true }).check(
      event(insert({ pk: '1', v: 2 }, { createdAt: past(), sequenceNumber: '500' })),
    );
    await adapter.execute([{ kind: 'set-versioned', key: 'user:1', value: '{"pk":"1"}', version: '499' }]);

    expect(report).toMatchObject({ stale: 1, repaired: 1 });
    expect(await adapter.get('user:1')).not.toContain('499');
  });

  it('checks only the sampled share of records', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.9);
    const adapter = memoryAdapter();
    await adapter.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 1 }) }]);

    const report = await monitorOf({ adapter, rules: [writeThrough], load: table().load, sampleRate: 0.5 }).check(
      event(remove({ pk: '1', v: 1 }, { createdAt: past() })),
    );

    expect(report.metrics).toMatchObject({ Records: 1, SampledRecords: 0, CheckedKeys: 0 });
  });

  it('waits for the grace counted from the record creation before reading the cache', async () => {
    const adapter = memoryAdapter();
    await adapter.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 1 }) }]);
    const records = event(insert({ pk: '1', v: 2 }, { createdAt: Math.floor(Date.now() / 1000) }));
    const handler = createStreamProcessor({ adapter, rules: [writeThrough], logger: false, metrics: false });
    let applied: Promise<unknown> | undefined;
    const logger: Logger = {
      ...capture().logger,
      // The handler, slower than the monitor's arrival but within the grace, applies the record.
      debug: (message) => {
        if (message.includes('waiting for the grace')) applied = handler.process(records);
      },
    };

    const report = await monitorOf({ adapter, rules: [writeThrough], load: table({ '1': { pk: '1', v: 2 } }).load, logger, graceMs: 500 }).check(records);

    expect(applied).toBeDefined();
    expect(report).toMatchObject({ checked: 1, stale: 0 });
  });

  it('leaves keys unchecked when the grace outlasts the invocation', async () => {
    const adapter = memoryAdapter();
    const records = event(insert({ pk: '1', v: 2 }, { createdAt: Math.floor(Date.now() / 1000) }));

    const report = await monitorOf({ adapter, rules: [writeThrough], load: table().load, graceMs: 60_000 }).check(records, {
      getRemainingTimeInMillis: () => 3_000,
    });

    expect(report).toMatchObject({ checked: 0, stale: 0, unchecked: 1 });
  });

  it('emits CheckedKeys, StaleKeys and UncheckedKeys as EMF', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
    const adapter = memoryAdapter();
    await adapter.execute([{ kind: 'set', key: 'user:1', value: JSON.stringify({ pk: '1', v: 1 }) }]);

    await createConsistencyMonitor({
      adapter,
      rules: [writeThrough],
      load: table().load,
      graceMs: 0,
      confirmMs: 0,
      logger: false,
      metrics: { namespace: 'Test' },
    }).check(event(remove({ pk: '1', v: 1 }, { createdAt: past() })));

    const emf = JSON.parse(out.find((line) => line.includes('CloudWatchMetrics')) ?? '{}') as Record<string, unknown>;
    expect(emf).toMatchObject({ CheckedKeys: 1, StaleKeys: 1, UncheckedKeys: 0, Monitor: 'memory' });
    expect(JSON.stringify(emf)).toContain('"Namespace":"Test"');
  });

  it('refuses bad monitor options, naming each one, together with handler config problems', () => {
    const attempt = () => createConsistencyMonitor({ adapter: memoryAdapter(), rules: [], sampleRate: 0, graceMs: -1 } as ConsistencyMonitorOptions);
    expect(attempt).toThrow(ConfigError);
    const issues = (() => {
      try {
        attempt();
        return [];
      } catch (error) {
        return (error as ConfigError).issues;
      }
    })();
    expect(issues).toEqual(
      expect.arrayContaining([expect.stringMatching(/^rules: /), expect.stringMatching(/^graceMs: /), expect.stringMatching(/^sampleRate: /)]),
    );
  });
});
