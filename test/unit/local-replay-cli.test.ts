import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { describeCommand, run } from '../../src/cli/replay.js';

const fixtures = join(import.meta.dirname, '../fixtures/events');
const config = join(fixtures, 'replay-config.mjs');
const lifecycle = join(fixtures, 'user-lifecycle.json');
const tmp = mkdtempSync(join(tmpdir(), 'replay-test-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  delete process.env['REPLAY_FAIL_PREFIX'];
});

async function replay(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('ddb-cache-sync replay', () => {
  it('applies a recorded event through the config and shows what the cache holds', async () => {
    const { code, out } = await replay(['--event', lifecycle, '--config', config]);
    expect(code).toBe(0);
    expect(out).toMatch(/3 DynamoDB Streams record\(s\) in 1 event\(s\) from user-lifecycle.json/);
    expect(out).toMatch(/#0 INSERT seq 0+1 pk=u1\n {3}set user:u1 ttl=300s \{"pk":"u1"/);
    expect(out).toMatch(/#1 MODIFY .*\n(.*\n)*? {3}delete user-by-email:ada@example.com/);
    expect(out).toMatch(/=> applied: every record; batchItemFailures \[\]/);
    // After insert, update and delete of u1, the cache holds nothing for it.
    expect(out).toMatch(/cache now holds:\n(.*\n)*? {2}user:u1 +\(absent\)/);
    expect(out).not.toContain('passwordHash');
  });

  it('with --dry-run prints the planned commands and sends nothing', async () => {
    const { code, out } = await replay(['--event', lifecycle, '--config', config, '--dry-run']);
    expect(code).toBe(0);
    expect(out).toContain('set user:u1 ttl=300s');
    expect(out).toContain('dry run: nothing was sent to the cache');
    expect(out).not.toContain('cache now holds');
    expect(out).not.toContain('=> applied');
  });

  it('reports the earliest failed record like Lambda would, and exits 1', async () => {
    process.env['REPLAY_FAIL_PREFIX'] = 'users:plan:pro';
    const { code, out } = await replay(['--event', lifecycle, '--config', config]);
    expect(code).toBe(1);
    // The update (#1) is the first record touching users:plan:pro.
    expect(out).toMatch(/records #0\.\.#0 applied; #1 and later reported for retry: batchItemFailures \["0+2"\]/);
  });

  it('says no record applied when the first record fails, never "#0..#-1"', async () => {
    process.env['REPLAY_FAIL_PREFIX'] = 'user:u1';
    const { code, out } = await replay(['--event', lifecycle, '--config', config]);
    expect(code).toBe(1);
    expect(out).toMatch(/=> no record applied; #0 and later reported for retry: batchItemFailures \["0+1"\]/);
    expect(out).not.toContain('#-1');
  });

  it('numbers an event without records as having none', async () => {
    const file = join(tmp, 'empty-then-one.json');
    const event = (await import(lifecycle, { with: { type: 'json' } })) as { default: { Records: unknown[] } };
    writeFileSync(file, JSON.stringify([{ Records: [] }, { Records: event.default.Records.slice(0, 1) }]));
    const { code, out } = await replay(['--event', file, '--config', config]);
    expect(code).toBe(0);
    expect(out).toMatch(/event 1 of 2\n=> no records; batchItemFailures \[\]/);
    expect(out).toMatch(/event 2 of 2\n#0 INSERT/);
    expect(out).not.toContain('#-1');
  });

  it('shows an invalid config as the config error, naming the option, and exits 2 (also with --dry-run)', async () => {
    const file = join(tmp, 'bad-config.mjs');
    writeFileSync(
      file,
      `export default { adapter: { name: 'x', execute: async () => [], close: async () => {} }, rules: [{ key: () => 'k', strategy: 'write-thru' }] };\n`,
    );
    for (const extra of [[], ['--dry-run']]) {
      const { code, out, err } = await replay(['--event', lifecycle, '--config', file, ...extra]);
      expect(code).toBe(2);
      expect(err).toMatch(/^--config .*bad-config\.mjs: Invalid ddb-cache-sync config: rules\[0\]\.strategy/);
      expect(out).toBe('');
    }
  });

  it('accepts an array of events', async () => {
    const file = join(tmp, 'two-events.json');
    const event = (await import(lifecycle, { with: { type: 'json' } })) as { default: { Records: unknown[] } };
    writeFileSync(file, JSON.stringify([{ Records: event.default.Records.slice(0, 1) }, { Records: event.default.Records.slice(1) }]));
    const { code, out } = await replay(['--event', file, '--config', config]);
    expect(code).toBe(0);
    expect(out).toContain('event 2 of 2');
    expect(out).toMatch(/#2 REMOVE/);
  });

  it('refuses a Kinesis event plainly', async () => {
    const file = join(tmp, 'kinesis.json');
    writeFileSync(file, JSON.stringify({ Records: [{ eventSource: 'aws:kinesis', kinesis: { data: 'e30=' } }] }));
    const { code, err } = await replay(['--event', file, '--config', config]);
    expect(code).toBe(2);
    expect(err).toMatch(/unsupported eventSource "aws:kinesis"/);
  });

  it.each([
    [['--config', config], /needs --event and --config/],
    [['--event', lifecycle, '--config', join(tmp, 'missing.mjs')], /cannot load --config/],
    [['--event', join(tmp, 'missing.json'), '--config', config], /cannot read --event/],
    [['--event', config, '--config', config], /cannot read --event/],
    [['--event', lifecycle, '--config', 'handler.ts'], /TypeScript/],
    [['--bogus'], /Unknown option/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const { code, err } = await replay(args);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('refuses a config module without a config', async () => {
    const file = join(tmp, 'empty-config.mjs');
    writeFileSync(file, 'export const nothing = 1;\n');
    const { code, err } = await replay(['--event', lifecycle, '--config', file]);
    expect(code).toBe(2);
    expect(err).toMatch(/must export the handler config/);
  });

  it('describes commands of any kind on one line', () => {
    expect(describeCommand({ kind: 'delete', key: 'k' })).toBe('delete k');
    expect(describeCommand({ kind: 'set', key: 'k', value: 'v', ttlSeconds: 5 })).toBe('set k ttl=5s v');
    expect(describeCommand({ kind: 'set-versioned', key: 'k', value: 'v', version: '12' })).toBe('set-versioned k version="12" v');
  });
});
