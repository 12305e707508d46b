/**
 * A cache adapter double that injects faults in front of a real in-memory store, and records
 * what it was asked, what it applied and what it answered. Pure logic for unit tests: the
 * real-server fault suites use real servers and `fault-proxy.ts` instead.
 */
import { type AnyCacheCommand, type CacheAdapter, type CommandResult, supportsVersioned } from '../../src/core/commands.js';

/**
 * What happens to one command:
 * - `ok`: applied and reported ok;
 * - `fail`: not applied, reported failed (the server refused it);
 * - `unknown`: applied but reported failed (the reply was lost: outcome unknown to the client);
 * - `late`: not applied now, reported failed, and applied later by `deliverLate()` (a write held
 *   by a partition that heals after the retry, and after newer batches).
 */
export type CommandFault = 'ok' | 'fail' | 'unknown' | 'late';

/**
 * What happens to the whole `execute` call:
 * - `none`: per-command faults only;
 * - `reject`: throws before applying anything (cannot connect);
 * - `reject-after`: applies the first `rejectAfter` commands, then throws (connection lost mid-batch);
 * - `short`: answers with fewer results than commands (a buggy adapter).
 */
export type BatchFault = 'none' | 'reject' | 'reject-after' | 'short';

export interface FaultPlan {
  /** Per-command faults, cycled over the commands of a call. Empty means all `ok`. */
  readonly commands: readonly CommandFault[];
  readonly batch: BatchFault;
  /** For `reject-after` and `short`: how many commands get through. */
  readonly cut: number;
}

/** One command as the double saw it. */
export interface Seen {
  readonly command: AnyCacheCommand;
  /** Whether it took effect in the inner store. */
  readonly applied: boolean;
  /** Whether the caller was told `{ ok: true }`. */
  readonly reportedOk: boolean;
}

export interface FaultyAdapter extends CacheAdapter {
  /** Every execute call, in order. */
  readonly calls: Seen[][];
  /** Turn faults off (as after the cache recovers) or change them. */
  setPlan(plan: FaultPlan): void;
  /** Apply the `late` commands held back so far, in the order they were sent. */
  deliverLate(): Promise<void>;
}

export const NO_FAULTS: FaultPlan = { commands: [], batch: 'none', cut: 0 };

/**
 * Wrap `inner` (usually a memory adapter) with scripted faults.
 *
 * @example
 * ```ts
 * const cache = memoryAdapter();
 * const adapter = faultyAdapter(cache, { commands: ['ok', 'unknown'], batch: 'none', cut: 0 });
 * ```
 */
export function faultyAdapter(inner: CacheAdapter, plan: FaultPlan = NO_FAULTS): FaultyAdapter {
  let current = plan;
  const calls: Seen[][] = [];
  const late: AnyCacheCommand[] = [];
  const applyOne = async (command: AnyCacheCommand): Promise<void> => {
    const [result] = supportsVersioned(inner)
      ? await inner.execute([command])
      : command.kind === 'set' || command.kind === 'delete'
        ? await inner.execute([command])
        : [];
    if (!result?.ok) throw new Error('inner adapter failed');
  };
  const double: FaultyAdapter = {
    name: 'faulty',
    calls,
    setPlan(next) {
      current = next;
    },
    async deliverLate() {
      for (const command of late.splice(0)) await applyOne(command);
    },
    async execute(commands: readonly AnyCacheCommand[]) {
      const seen: Seen[] = [];
      calls.push(seen);
      const { batch, cut } = current;
      if (batch === 'reject') {
        for (const command of commands) seen.push({ command, applied: false, reportedOk: false });
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      }
      const results: CommandResult[] = [];
      for (const [i, command] of commands.entries()) {
        if (batch === 'reject-after' && i >= cut) {
          // The caller gets a rejection, so none of the answers reach it, applied or not.
          seen.splice(0, seen.length, ...seen.map((s) => ({ ...s, reportedOk: false })));
          for (const rest of commands.slice(i)) seen.push({ command: rest, applied: false, reportedOk: false });
          throw new Error('Connection is closed.');
        }
        const fault = current.commands.length === 0 ? 'ok' : (current.commands[i % current.commands.length] ?? 'ok');
        const applied = fault === 'ok' || fault === 'unknown';
        if (applied) await applyOne(command);
        if (fault === 'late') late.push(command);
        const answered = batch !== 'short' || i < cut;
        const reportedOk = fault === 'ok' && answered;
        seen.push({ command, applied, reportedOk });
        if (answered) results.push(fault === 'ok' ? { ok: true } : { ok: false, error: new Error(fault === 'fail' ? 'ERR refused' : 'Command timed out') });
      }
      return results;
    },
    get: (key) => inner.get(key),
    close: async () => {},
  };
  if (!supportsVersioned(inner)) return double;
  // Versioned rules need the reader-side operations too; they pass straight through.
  return Object.assign(double, {
    capabilities: inner.capabilities,
    lease: inner.lease.bind(inner),
    fill: inner.fill.bind(inner),
  });
}
