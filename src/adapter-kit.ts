/**
 * ddb-cache-sync/adapter-kit: what a cache adapter's author needs beyond the application API.
 * The `CacheAdapter` contract and its command types, the versioned envelope format, and the
 * transition table that decides what a versioned write, lease or fill does to one key, so a
 * backend that decides in the client (as the memory adapter does) follows the same rules as the
 * built-in ones. Run the shipped contract suite from `ddb-cache-sync/testing` against the result.
 *
 * @example
 * ```ts
 * import type { CacheAdapter, CommandResult } from 'ddb-cache-sync/adapter-kit';
 *
 * const store = new Map<string, string>();
 * export const mapAdapter: CacheAdapter = {
 *   name: 'map',
 *   async execute(commands) {
 *     return commands.map((command): CommandResult => {
 *       if (command.kind === 'set') store.set(command.key, command.value);
 *       else store.delete(command.key);
 *       return { ok: true };
 *     });
 *   },
 *   async get(key) {
 *     return store.get(key);
 *   },
 *   async close() {},
 * };
 * ```
 *
 * @module
 */
export {
  supportsVersioned,
  type AdapterCapabilities,
  type AnyCacheCommand,
  type CacheAdapter,
  type CacheCommand,
  type CacheCommandKind,
  type CommandResult,
  type DeleteCommand,
  type DeleteVersionedCommand,
  type FillOptions,
  type LeaseOutcome,
  type SetCommand,
  type SetVersionedCommand,
  type VersionedCacheAdapter,
  type VersionedCommand,
} from './core/commands.js';
export {
  compareVersions,
  decodeEnvelope,
  deleteVersionedTransition,
  ENVELOPE_MARK,
  ENVELOPE_SEPARATOR,
  fillTransition,
  leaseTransition,
  setVersionedTransition,
  type Envelope,
  type Transition,
} from './core/versioned.js';
