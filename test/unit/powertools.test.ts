/**
 * Existing Lambdas often already use Powertools for AWS Lambda: its `Logger` instance works as
 * the handler's `logger` as it is, and the batch counters publish through Powertools `Metrics`
 * (the recipe in docs/concepts.md, "Powertools").
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryAdapter, type Rule } from '../../src/index.js';
import { createStreamHandler, createStreamProcessor } from '../../src/lambda/handler.js';
import { event, insert } from '../helpers/records.js';

// Powertools writes info and debug to stdout and warnings and errors to stderr.
const written: { stream: 'stdout' | 'stderr'; text: string }[] = [];
beforeEach(() => {
  written.length = 0;
  for (const stream of ['stdout', 'stderr'] as const) {
    vi.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push({ stream, text: String(chunk) });
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

function jsonLines(stream: 'stdout' | 'stderr'): Record<string, unknown>[] {
  return written
    .filter((w) => w.stream === stream)
    .flatMap((w) => w.text.split('\n'))
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const rules: Rule[] = [{ name: 'user-by-id', table: 'Users', key: (i) => `user:${String(i['pk'])}`, strategy: 'write-through' }];

describe('a Powertools Logger passed as the logger', () => {
  it('carries the library’s warnings and errors as Powertools JSON, with the service name and the library’s fields', async () => {
    const logger = new Logger({ serviceName: 'orders', logLevel: 'DEBUG' });
    const handler = createStreamHandler({ adapter: memoryAdapter(), rules, logger, metrics: false });

    const bad = insert({ pk: 'u2' }, { table: 'Users' });
    delete bad.dynamodb?.NewImage;
    const response = await handler(event(insert({ pk: 'u1' }, { table: 'User' }), bad));

    expect(response.batchItemFailures).toHaveLength(1);
    const lines = jsonLines('stderr');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'WARN',
          service: 'orders',
          message: expect.stringContaining('table User'),
          table: 'User',
          ruleTables: ['Users'],
          records: 1,
        }),
        expect.objectContaining({
          level: 'ERROR',
          service: 'orders',
          message: 'invalid record; reporting it for retry',
          error: expect.objectContaining({ name: 'InvalidRecordError' }),
        }),
      ]),
    );
    expect(jsonLines('stdout')).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'DEBUG', service: 'orders', message: 'batch processed' })]));
  });
});

describe('the batch counters published through Powertools Metrics', () => {
  it('writes one EMF document in the caller’s namespace and none of the library’s own', async () => {
    const metrics = new Metrics({ namespace: 'Orders', serviceName: 'orders' });
    const processor = createStreamProcessor({ adapter: memoryAdapter(), rules, logger: false, metrics: false });

    const result = await processor.process(event(insert({ pk: 'u1' }, { table: 'Users' }), insert({ pk: 'u2' }, { table: 'Users' })));
    for (const [name, value] of Object.entries(result.metrics)) {
      if (value !== undefined) metrics.addMetric(name, name.endsWith('Ms') ? MetricUnit.Milliseconds : MetricUnit.Count, value);
    }
    metrics.publishStoredMetrics();

    const documents = jsonLines('stdout').filter((line) => '_aws' in line);
    expect(documents).toHaveLength(1);
    const [document] = documents;
    expect(document).toMatchObject({ Records: 2, Commands: 2, SetCommands: 2, FailedCommands: 0, service: 'orders' });
    expect(JSON.stringify(document?.['_aws'])).toContain('"Namespace":"Orders"');
    expect(JSON.stringify(documents)).not.toContain('DdbCacheSync');
  });
});
