/**
 * A cache adapter double that injects faults in front of a real in-memory store, and records
 * what it was asked, what it applied and what it answered. Pure logic for unit tests: the
 * real-server fault suites use real servers and `fault-proxy.ts` instead.
 */
import type { CacheAdapter, CacheCommand, CommandResult } from '../../src/core/commands.js';

/**
 * What happens to one command:
 * - `ok`: applied and reported ok;
 * - `fail`: not applied, reported failed (the server refused it);
 * - `unknown`: applied but reported failed (the reply was lost: outcome unknown to the client).
 */
export type CommandFault = 'ok' | 'fail' | 'unknown';

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
  readonly command: CacheCommand;
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
  return {
    name: 'faulty',
    calls,
    setPlan(next) {
      current = next;
    },
    async execute(commands) {
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
        const applied = fault !== 'fail';
        if (applied) {
          const [result] = await inner.execute([command]);
          if (!result?.ok) throw new Error('inner adapter failed');
        }
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
}
