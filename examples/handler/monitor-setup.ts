/**
 * The example monitors' shared setup: `monitor.ts` (Valkey/Redis) and `monitor-memcached.ts`
 * wrap their handler's async config loader with it. Kept apart from both so each bundle holds
 * one adapter only.
 *
 * @module
 */
import { DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse } from 'aws-lambda';
import type { StreamHandlerConfig } from 'ddb-cache-sync';
import { createConsistencyMonitor, type ConsistencyMonitor, type LoadItem } from 'ddb-cache-sync/monitor';

/** The monitor's own settings. */
export interface MonitorSettings {
  readonly graceMs: number;
  readonly sampleRate: number;
}

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`${name} must be a number, got ${JSON.stringify(value)}`);
  return parsed;
}

/** Read the monitor settings; the monitor's validator names the option if a value is out of range. */
export function monitorSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): MonitorSettings {
  return {
    graceMs: numberFrom(env, 'MONITOR_GRACE_MS', 10_000),
    sampleRate: numberFrom(env, 'MONITOR_SAMPLE_RATE', 1),
  };
}

/**
 * The monitor's table read: a strongly consistent GetItem, as the library's default loader
 * does, but through a static import. In the CommonJS bundle it becomes a plain `require`, which
 * finds the runtime's SDK (the default loader's dynamic `import()` might not, as `index.ts`
 * explains for Secrets Manager).
 */
export function getItemLoader(client: DynamoDBClient = new DynamoDBClient({})): LoadItem {
  return async (table, keys) => {
    const answer = await client.send(new GetItemCommand({ TableName: table, Key: keys as Record<string, AttributeValue>, ConsistentRead: true }));
    return answer.Item as Awaited<ReturnType<LoadItem>>;
  };
}

/**
 * A monitor handler over an async config loader (the handler's own: the same adapter and
 * rules, so the monitor and the handler never disagree about keys). Set up on the first
 * invocation; a failed setup fails that invocation and the next one tries again.
 */
export function monitorHandler(
  load: () => Promise<StreamHandlerConfig>,
  env: NodeJS.ProcessEnv = process.env,
): (event: unknown, context?: unknown) => Promise<DynamoDBBatchResponse> {
  let ready: Promise<ConsistencyMonitor> | undefined;
  return async (event, context) => {
    ready ??= load()
      .then((config) => createConsistencyMonitor({ ...config, ...monitorSettingsFromEnv(env), load: getItemLoader() }))
      .catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
    return (await ready).handler(event, context);
  };
}
