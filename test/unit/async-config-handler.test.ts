import type { KinesisStreamEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from '../../src/adapters/memory/index.js';
import type { Rule } from '../../src/core/rules.js';
import { ConfigError } from '../../src/errors.js';
import type { StreamHandlerConfig } from '../../src/lambda/config.js';
import { createStreamHandler } from '../../src/lambda/handler.js';
import { createKinesisStreamHandler } from '../../src/lambda/kinesis.js';
import { event, insert } from '../helpers/records.js';

const rules: Rule[] = [{ table: 'App', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through' }];

let stdout: string[];
beforeEach(() => {
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

/** A config loader the test releases by hand, counting its calls. */
function gatedLoader(config: StreamHandlerConfig): { load: () => Promise<StreamHandlerConfig>; release: () => void; calls: () => number } {
  let calls = 0;
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    load: async () => {
      calls++;
      await gate;
      return config;
    },
    release: () => release(),
    calls: () => calls,
  };
}

function configErrorLines(): Record<string, unknown>[] {
  return stdout.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['configError'] === true);
}

describe('createStreamHandler given a config loader', () => {
  it('loads the config once, shared by concurrent first invocations, and keeps it', async () => {
    const adapter = memoryAdapter();
    const loader = gatedLoader({ adapter, rules, logger: false, metrics: false });
    const handler = createStreamHandler(loader.load);

    const pending = [handler(event(insert({ pk: 'a' }))), handler(event(insert({ pk: 'b' }))), handler(event(insert({ pk: 'c' })))];
    loader.release();
    const responses = await Promise.all(pending);
    await handler(event(insert({ pk: 'd' })));

    expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(loader.calls()).toBe(1);
    for (const pk of ['a', 'b', 'c', 'd']) expect(await adapter.get(`user:${pk}`)).toBe(JSON.stringify({ pk }));
  });

  it('fails the invocation when the loader rejects, and loads again on the next one', async () => {
    const adapter = memoryAdapter();
    const load = vi
      .fn<() => Promise<StreamHandlerConfig>>()
      .mockRejectedValueOnce(new Error('secret unreadable'))
      .mockResolvedValue({ adapter, rules, logger: false, metrics: false });
    const handler = createStreamHandler(load);

    await expect(handler(event(insert({ pk: 'a' })))).rejects.toThrow('secret unreadable');
    const response = await handler(event(insert({ pk: 'a' })));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(load).toHaveBeenCalledTimes(2);
    expect(await adapter.get('user:a')).toBe(JSON.stringify({ pk: 'a' }));
  });

  it('fails the invocation with the ConfigError of an invalid loaded config, logged as a configuration error', async () => {
    const adapter = memoryAdapter();
    const handler = createStreamHandler(async () => ({ adapter, rules: [{ key: () => 'k', strategy: 'write-thru' }] }) as unknown as StreamHandlerConfig);

    const invocation = handler(event(insert({ pk: 'a' })));

    await expect(invocation).rejects.toThrow(ConfigError);
    await expect(invocation).rejects.toThrow(/rules\[0\]\.strategy: must be/);
    const [line, ...more] = configErrorLines();
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'ERROR', invalidConfig: true, error: { name: 'ConfigError' } });
    expect(String(line?.['message'])).toMatch(/^configuration error/);
    expect(await adapter.get('k')).toBeUndefined();
  });

  it('accepts a loader that returns the config without a promise', async () => {
    const adapter = memoryAdapter();
    const handler = createStreamHandler(() => ({ adapter, rules, logger: false, metrics: false }));

    expect(await handler(event(insert({ pk: 'a' })))).toEqual({ batchItemFailures: [] });
    expect(await adapter.get('user:a')).toBe(JSON.stringify({ pk: 'a' }));
  });
});

describe('createKinesisStreamHandler given a config loader', () => {
  it('refuses an order-dependent loaded config on the first invocation', async () => {
    const handler = createKinesisStreamHandler(async () => ({ adapter: memoryAdapter(), rules, logger: false, metrics: false }));
    const empty: KinesisStreamEvent = { Records: [] };

    await expect(handler(empty)).rejects.toThrow(/write-through is unsafe with Kinesis/);
    expect(configErrorLines()).toHaveLength(1);
  });

  it('processes events once the loaded config is valid', async () => {
    const versioned: Rule = { table: 'App', key: (i) => `user:${String(i['pk'])}`, strategy: 'versioned', version: { attribute: 'v' } };
    const loader = gatedLoader({ adapter: memoryAdapter(), rules: [versioned], logger: false, metrics: false });
    const handler = createKinesisStreamHandler(loader.load);

    const pending = [handler({ Records: [] }), handler({ Records: [] })];
    loader.release();

    expect(await Promise.all(pending)).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(loader.calls()).toBe(1);
  });
});
