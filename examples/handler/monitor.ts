/**
 * Example consistency monitor for `examples/cloudformation/stack.yaml`
 * (`EnableConsistencyMonitor=true`): a second function on the table's stream that checks,
 * `MONITOR_GRACE_MS` after each write, that the Valkey/Redis cache holds nothing older, and
 * emits `StaleKeys` (see docs/monitor.md). It reads the cache and the table, never writes.
 *
 * Environment (set by the template): the handler's own (`TABLE_NAME`, `CACHE_ENDPOINT`,
 * `CACHE_CLUSTER`, `CACHE_SECRET_ARN`, `CACHE_TLS`: see `index.ts`), plus
 * - `MONITOR_GRACE_MS`: how long after a write its keys are checked. Default 10000.
 * - `MONITOR_SAMPLE_RATE`: share of records checked, in (0, 1]. Default 1.
 *
 * The table reads use `@aws-sdk/client-dynamodb`, which the Lambda runtime ships (the bundle
 * leaves it out, like the Secrets Manager client).
 *
 * @module
 */
import { loadConfig } from './index.js';
import { monitorHandler } from './monitor-setup.js';

/** The Lambda entry point (`index.handler` in monitor.zip). */
export const handler = monitorHandler(loadConfig);
