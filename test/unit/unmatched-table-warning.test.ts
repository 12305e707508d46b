/**
 * A rule whose `table` does not name the stream's table (`Users` for `User`) skips every record
 * with only a `SkippedRecords` count to show for it; the handler says so in its log instead.
 */
import { describe, expect, it } from 'vitest';
import { memoryAdapter, type Rule } from '../../src/index.js';
import { createStreamHandler, createStreamProcessor } from '../../src/lambda/handler.js';
import type { Logger } from '../../src/lambda/logger.js';
import { event, insert, modify, remove } from '../helpers/records.js';

function recordingLogger(): Logger & { warnings: { message: string; extra: Record<string, unknown>[] }[] } {
  const warnings: { message: string; extra: Record<string, unknown>[] }[] = [];
  const ignore = () => {};
  return { warnings, debug: ignore, info: ignore, error: ignore, warn: (message, ...extra) => warnings.push({ message, extra }) };
}

const rules: Rule[] = [
  { name: 'user-by-id', table: 'Users', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through' },
  { name: 'order-by-id', table: /^Orders-/, key: (i) => `order:${String(i['pk'])}`, strategy: 'invalidate' },
];

describe('a stream table no rule names', () => {
  it('is logged once per invocation, naming the table, the rules’ tables and the count, and no item data', async () => {
    const logger = recordingLogger();
    const handler = createStreamHandler({ adapter: memoryAdapter(), rules, logger, metrics: false });
    const secret = { pk: 'u1', email: 'secret@example.com' };

    const response = await handler(
      event(insert(secret, { table: 'User' }), modify(secret, { ...secret, name: 'x' }, { table: 'User' }), remove(secret, { table: 'User' })),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(logger.warnings).toHaveLength(1);
    const [warning] = logger.warnings;
    expect(warning?.message).toContain('table User');
    expect(warning?.message).toContain('Users, /^Orders-/');
    expect(warning?.extra).toEqual([{ table: 'User', ruleTables: ['Users', '/^Orders-/'], records: 3 }]);
    expect(JSON.stringify(logger.warnings)).not.toContain('secret@example.com');
  });

  it('warns once for each unmatched table of a batch, and again on the next invocation', async () => {
    const logger = recordingLogger();
    const handler = createStreamHandler({ adapter: memoryAdapter(), rules, logger, metrics: false });
    const batch = event(
      insert({ pk: 'a' }, { table: 'User' }),
      insert({ pk: 'b' }, { table: 'Order' }),
      insert({ pk: 'c' }, { table: 'User' }),
      insert({ pk: 'd' }, { table: 'Users' }),
    );

    await handler(batch);
    expect(logger.warnings.map((w) => w.extra[0]?.['table'])).toEqual(['User', 'Order']);
    await handler(batch);
    expect(logger.warnings.map((w) => w.extra[0]?.['table'])).toEqual(['User', 'Order', 'User', 'Order']);
  });

  it('stays quiet when every record matches a rule’s table, even if `when` filters it out', async () => {
    const logger = recordingLogger();
    const filtered: Rule[] = [{ table: 'App', when: (i) => i['type'] === 'User', key: (i) => `user:${String(i['pk'])}`, strategy: 'invalidate' }];
    const result = await createStreamProcessor({ adapter: memoryAdapter(), rules: filtered, logger, metrics: false }).process(
      event(insert({ pk: 'o1', type: 'Order' })),
    );
    expect(result.metrics.SkippedRecords).toBe(0);
    expect(logger.warnings).toEqual([]);
  });

  it('stays quiet when a rule has no table (it matches every table)', async () => {
    const logger = recordingLogger();
    const anyTable: Rule[] = [{ key: (i) => `item:${String(i['pk'])}`, strategy: 'invalidate' }];
    await createStreamHandler({ adapter: memoryAdapter(), rules: anyTable, logger, metrics: false })(event(insert({ pk: 'x' }, { table: 'Anything' })));
    expect(logger.warnings).toEqual([]);
  });
});
