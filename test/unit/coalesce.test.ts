/**
 * Coalescing within a batch (src/core/coalesce.ts): only each key's final effect is sent, and a
 * failed survivor is charged to the earliest record whose effect it carries. The model check:
 * for random batches with repeated keys and random command failures, the cache after
 * Lambda-style retries equals the cache that applying every planned command, uncoalesced and
 * fault-free, leaves.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeEvent, rules as workloadRules } from '../../bench/lib/workload.js';
import { memoryAdapter, type MemoryAdapter } from '../../src/adapters/memory/index.js';
import { coalesceCommands } from '../../src/core/coalesce.js';
import type { AnyCacheCommand } from '../../src/core/commands.js';
import { planCommands } from '../../src/core/plan.js';
import type { Rule } from '../../src/core/rules.js';
import { createStreamProcessor } from '../../src/lambda/handler.js';
import { type CommandFault, type FaultPlan, faultyAdapter, NO_FAULTS } from '../helpers/fault-adapter.js';
import { insert, modify, remove } from '../helpers/records.js';
import { snapshot } from '../helpers/memory-snapshot.js';

const set = (key: string, value: string): AnyCacheCommand => ({ kind: 'set', key, value });
const del = (key: string): AnyCacheCommand => ({ kind: 'delete', key });
const vset = (key: string, version: string): AnyCacheCommand => ({ kind: 'set-versioned', key, value: `v${version}`, version });
const vdel = (key: string, version: string): AnyCacheCommand => ({ kind: 'delete-versioned', key, version, tombstoneTtlSeconds: 60 });

describe('coalesceCommands', () => {
  it('sends only the last plain command of a key, charged to the earliest record of the run', () => {
    const { commands, owners, carries } = coalesceCommands([set('a', '1'), set('b', '1'), del('a'), set('a', '3')], [0, 1, 2, 3]);
    expect(commands).toEqual([set('b', '1'), set('a', '3')]);
    expect(owners).toEqual([1, 0]);
    expect(carries).toEqual([1, 3]);
  });

  it('sends the versioned command with the greatest stamp, a tombstone above a value of the same version, the first of equals', () => {
    const first = vset('k', '5');
    const { commands, owners } = coalesceCommands([vset('k', '3'), first, vset('k', '4'), vset('k', '5'), vdel('k', '2')], [0, 1, 2, 3, 4]);
    expect(commands).toEqual([first]);
    expect(commands[0]).toBe(first);
    expect(owners).toEqual([0]);
    expect(coalesceCommands([vset('k', '7'), vdel('k', '7')], [0, 1]).commands).toEqual([vdel('k', '7')]);
  });

  it('keeps plain and versioned runs of one key apart, in the key order', () => {
    const batch = [set('k', '1'), set('k', '2'), vset('k', '9'), vset('k', '8'), del('k')];
    const { commands, owners } = coalesceCommands(batch, [0, 1, 2, 3, 4]);
    expect(commands).toEqual([set('k', '2'), vset('k', '9'), del('k')]);
    expect(owners).toEqual([0, 2, 4]);
  });

  it('leaves a batch without repeated keys as it is', () => {
    const batch = [set('a', '1'), del('b'), vset('c', '1')];
    expect(coalesceCommands(batch, [0, 0, 2])).toEqual({ commands: batch, owners: [0, 0, 2], carries: [1, 1, 1] });
  });
});

// ---------------------------------------------------------------- model check

const CLOCK = () => 1_700_000_000_000;

const modelRules: Rule[] = [
  { name: 'by-id', table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through', ttlSeconds: 300 },
  { name: 'by-email', table: 'App', key: (i) => `email:${String(i['email'])}`, strategy: 'invalidate' },
  // Writes `shared:<email>` too, so plain and versioned commands on one key never mix by rule.
  { name: 'shared', table: 'App', when: (i) => i['type'] === 'User', key: (i) => `shared:${String(i['email'])}`, strategy: 'write-through' },
  {
    name: 'ver',
    table: 'App',
    when: (i) => i['type'] === 'Order',
    key: (i) => [`ver:${String(i['pk'])}`, `ver-by-email:${String(i['email'])}`],
    strategy: 'versioned',
    version: { attribute: 'v' },
    ttlSeconds: 60,
  },
];

const itemArb = fc.record({
  pk: fc.constantFrom('u1', 'u2'),
  type: fc.constantFrom('User', 'Order'),
  email: fc.constantFrom('a@example.com', 'b@example.com'),
  name: fc.constantFrom('Ann', 'Bob', 'Cy'),
  v: fc.integer({ min: 0, max: 6 }),
});
const recordArb: fc.Arbitrary<DynamoDBRecord> = fc.oneof(
  itemArb.map((i) => insert(i)),
  fc.tuple(itemArb, itemArb).map(([a, b]) => modify(a, { ...b, pk: a.pk })),
  itemArb.map((i) => remove(i)),
);
const faultsArb: fc.Arbitrary<FaultPlan> = fc.record({
  commands: fc.array(fc.constantFrom<CommandFault>('ok', 'ok', 'fail', 'unknown'), { maxLength: 5 }),
  batch: fc.constant('none' as const),
  cut: fc.constant(0),
});

/** The cache without coalescing: every planned command of every valid record, in order. */
async function uncoalesced(records: readonly DynamoDBRecord[]): Promise<MemoryAdapter> {
  const cache = memoryAdapter({ now: CLOCK });
  const commands = planCommands(records, modelRules).flatMap((plan) => plan.commands);
  for (const result of await cache.execute(commands)) expect(result.ok).toBe(true);
  return cache;
}

describe('coalescing under faults (model)', () => {
  it('leaves the cache as the uncoalesced batch does, after Lambda-style retries (1,500 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 14 }), fc.array(faultsArb, { minLength: 1, maxLength: 3 }), async (records, faults) => {
        const cache = memoryAdapter({ now: CLOCK });
        const adapter = faultyAdapter(cache);
        // Records a versioned rule refuses (a version that did not grow) are skipped on both sides.
        const processor = createStreamProcessor({ adapter, rules: modelRules, logger: false, metrics: false, onInvalidRecord: 'skip' });
        let from = 0;
        for (let attempt = 0; from < records.length; attempt++) {
          // Faults on the first attempts, then the cache recovers; Lambda retries from the reported record.
          adapter.setPlan(faults[attempt] ?? NO_FAULTS);
          expect(attempt).toBeLessThanOrEqual(faults.length);
          const result = await processor.process({ Records: records.slice(from) });
          if (result.failedIndex === undefined) break;
          from += result.failedIndex;
        }
        expect(await snapshot(cache)).toEqual(await snapshot(await uncoalesced(records)));
      }),
      { numRuns: 1_500 },
    );
  }, 120_000);
});

describe('commands per batch when keys repeat (budget)', () => {
  it('sends one command per key of the repeated-keys workload: half the records', async () => {
    const batch = makeEvent(1_000, 42, { repeatKeys: true });
    const adapter = faultyAdapter(memoryAdapter());
    const processor = createStreamProcessor({ adapter, rules: workloadRules, logger: false, metrics: false });
    const result = await processor.process(batch);
    expect(result.batchItemFailures).toEqual([]);
    expect(adapter.calls).toHaveLength(1);
    expect(adapter.calls[0]).toHaveLength(500);
    expect(result.metrics.Commands).toBe(1_000);
    expect(result.metrics.CoalescedCommands).toBe(500);
    expect(new Set(adapter.calls[0]?.map((seen) => seen.command.key)).size).toBe(500);
  });

  it('sends every command of a batch whose keys are unique', async () => {
    const adapter = faultyAdapter(memoryAdapter());
    const processor = createStreamProcessor({ adapter, rules: workloadRules, logger: false, metrics: false });
    const result = await processor.process(makeEvent(1_000));
    expect(adapter.calls[0]).toHaveLength(1_000);
    expect(result.metrics.CoalescedCommands).toBe(0);
  });
});
