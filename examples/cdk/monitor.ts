/**
 * The consistency monitor of the CDK example: the Valkey/Redis example monitor, unchanged.
 * `CacheSync` sets the variables it reads (the handler's, plus `MONITOR_GRACE_MS` and
 * `MONITOR_SAMPLE_RATE`) and bundles it as it bundles the handler.
 *
 * @module
 */
export { handler } from '../handler/monitor.js';
