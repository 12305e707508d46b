/**
 * Coalescing within a batch: when several commands touch one key, only the final effect needs
 * to reach the cache, so only the command that decides it is sent.
 *
 * - A run of plain commands (`set`, `delete`) on a key: the last one wins (a SET replaces value
 *   and TTL; a DEL after it removes both), so it alone is sent.
 * - A run of versioned commands on a key: each applies only if strictly newer than what the key
 *   holds, so the one with the greatest stamp (version, then a delete above a value; the first
 *   of equals) decides the key; the others would be refused or overwritten.
 *
 * A run ends where the key's next command is of the other family, which is then sent after the
 * run's survivor, keeping the key's order.
 *
 * Failure attribution is decided here, in one place: a survivor carries the effects of every
 * command of its run, so if it fails, the record to retry from is the earliest record of the
 * run. Records before that one are unaffected by the failure.
 *
 * @module
 */
import type { AnyCacheCommand, VersionedCommand } from './commands.js';
import { compareStamps, writeStamp } from './versioned.js';

/** The commands to send for a batch, each with the record to retry from if it fails. */
export interface CoalescedCommands {
  /** The surviving commands, in batch order. */
  readonly commands: AnyCacheCommand[];
  /** Per surviving command: the index of the earliest record whose effect it carries. */
  readonly owners: number[];
  /** Per surviving command: how many planned commands' effects it carries (itself included). */
  readonly carries: number[];
}

function isVersioned(command: AnyCacheCommand): command is VersionedCommand {
  return command.kind === 'set-versioned' || command.kind === 'delete-versioned';
}

interface Run {
  readonly versioned: boolean;
  /** Position of the command that decides the key so far. */
  survivor: number;
  /** Earliest owner among the run's commands. */
  earliest: number;
  /** Commands in the run. */
  size: number;
}

/**
 * Keep only the commands that decide each key's final state.
 *
 * @param commands - the batch's commands, in the order they must take effect.
 * @param owners - for each command, the index of the record it came from (non-decreasing).
 *
 * @example
 * ```ts
 * const { commands, owners } = coalesceCommands(
 *   [{ kind: 'set', key: 'user:1', value: 'a' }, { kind: 'set', key: 'user:1', value: 'b' }],
 *   [0, 1],
 * );
 * // commands: [{ kind: 'set', key: 'user:1', value: 'b' }], owners: [0], carries: [2]
 * ```
 */
export function coalesceCommands(commands: readonly AnyCacheCommand[], owners: readonly number[]): CoalescedCommands {
  // Per key, its run so far: while the run holds one command, just that command's position, so a
  // batch whose keys never repeat (the usual one) allocates nothing per command.
  const runs = new Map<string, number | Run>();
  const runAt = (i: number): Run => ({ versioned: isVersioned(commands[i] as AnyCacheCommand), survivor: i, earliest: owners[i] as number, size: 1 });
  // Allocated at the first repeated key. ownerOf[i] is set for survivors only; -1 marks a superseded command.
  let ownerOf: number[] | undefined;
  let sizeOf: number[] = [];
  let superseded = 0;
  const close = (run: Run, into: number[]) => {
    into[run.survivor] = run.earliest;
    sizeOf[run.survivor] = run.size;
  };
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i] as AnyCacheCommand;
    const entry = runs.get(command.key);
    if (entry === undefined) {
      runs.set(command.key, i);
      continue;
    }
    if (ownerOf === undefined) {
      ownerOf = new Array<number>(commands.length).fill(-1);
      sizeOf = new Array<number>(commands.length).fill(1);
    }
    const owner = owners[i] as number;
    const versioned = isVersioned(command);
    const run = typeof entry === 'number' ? runAt(entry) : entry;
    if (run.versioned !== versioned) {
      close(run, ownerOf);
      runs.set(command.key, i);
      continue;
    }
    if (typeof entry === 'number') runs.set(command.key, run);
    superseded++;
    run.size++;
    if (owner < run.earliest) run.earliest = owner;
    if (!isVersioned(command)) {
      run.survivor = i;
    } else {
      const best = commands[run.survivor] as VersionedCommand;
      if (compareStamps(writeStamp(command.kind, command.version), writeStamp(best.kind, best.version)) > 0) run.survivor = i;
    }
  }
  if (ownerOf === undefined || superseded === 0) {
    return { commands: commands.slice(), owners: owners.slice(), carries: ownerOf === undefined ? new Array<number>(commands.length).fill(1) : sizeOf };
  }
  for (const entry of runs.values()) close(typeof entry === 'number' ? runAt(entry) : entry, ownerOf);
  const kept: AnyCacheCommand[] = [];
  const keptOwners: number[] = [];
  const carries: number[] = [];
  for (let i = 0; i < commands.length; i++) {
    const owner = ownerOf[i] as number;
    if (owner < 0) continue;
    kept.push(commands[i] as AnyCacheCommand);
    keptOwners.push(owner);
    carries.push(sizeOf[i] as number);
  }
  return { commands: kept, owners: keptOwners, carries };
}
