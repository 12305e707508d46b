/**
 * ddb-cache-sync/testing: the adapter contract suite, for authors of cache adapters to run
 * against their adapter and a real server with their own vitest (an optional peer dependency
 * of this entry only; nothing here imports it at runtime).
 *
 * @module
 */
export { adapterContract, type ContractHarness, type ContractTestApi } from './adapter-contract.js';
