/**
 * Example consistency monitor for `examples/cloudformation/stack-memcached.yaml`
 * (`EnableConsistencyMonitor=true`): `monitor.ts` over the Memcached handler's config (Auto
 * Discovery, the same rules). Environment: the Memcached handler's (see `memcached.ts`) plus
 * `MONITOR_GRACE_MS` and `MONITOR_SAMPLE_RATE` (see `monitor.ts`).
 *
 * @module
 */
import { loadConfig } from './memcached.js';
import { monitorHandler } from './monitor-setup.js';

/** The Lambda entry point (`index.handler` in monitor-memcached.zip). */
export const handler = monitorHandler(() => loadConfig());
