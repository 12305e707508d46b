/**
 * Cache commands: what the pure core asks an adapter to do. Every adapter executes the same
 * commands with the same meaning, which the contract suite in `test/contract` pins down.
 *
 * One time unit crosses the adapter boundary: whole seconds (`ttlSeconds`). An adapter maps
 * it to its server's convention (Redis `EX`, Memcached relative/absolute expiry).
 *
 * @module
 */

/** Store `value` under `key`, replacing what is there. No `ttlSeconds` means no expiry. */
export interface SetCommand {
  readonly kind: 'set';
  readonly key: string;
  readonly value: string;
  readonly ttlSeconds?: number;
}

/** Remove `key`. Deleting a missing key succeeds. */
export interface DeleteCommand {
  readonly kind: 'delete';
  readonly key: string;
}

/** A typed cache command. Strategies that need more kinds add them here. */
export type CacheCommand = SetCommand | DeleteCommand;

/** The kinds of {@link CacheCommand}. */
export type CacheCommandKind = CacheCommand['kind'];

/** The outcome of one command, in the same position as the command it answers. */
export type CommandResult = { readonly ok: true } | { readonly ok: false; readonly error: Error };

/**
 * What every cache adapter implements. The handler calls `execute` once per batch.
 *
 * Contract:
 * - `execute` returns exactly one result per command, in command order.
 * - Commands that touch the same key take effect in the order given.
 * - A command reported `{ ok: true }` has taken effect on the server. A command whose outcome
 *   is unknown (timeout, connection lost) is reported `{ ok: false }`: never guess success.
 * - `execute` may also reject (e.g. cannot connect at all); the caller treats that as every
 *   command failed.
 */
export interface CacheAdapter {
  /** Short name for logs and metrics, e.g. `memory`, `redis`, `memcached`. */
  readonly name: string;
  /** Run the commands of one batch. */
  execute(commands: readonly CacheCommand[]): Promise<CommandResult[]>;
  /** Read the raw stored string, for readers, tests and demos. */
  get(key: string): Promise<string | undefined>;
  /** Release connections the adapter created. Clients the user passed in are left open. */
  close(): Promise<void>;
}
