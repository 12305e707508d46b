/**
 * Multi-key DEL: plain deletes of one pipeline merged into `DEL k1 k2 …`, because ioredis pays
 * per command object and reply far more than per key, and an invalidate batch is all deletes.
 *
 * @module
 */
import type { AnyCacheCommand } from '../../core/commands.js';
import { keySlot } from './slot.js';

/** Keys per merged DEL: bounds the request (and the server's time in one command). */
export const MAX_KEYS_PER_DEL = 512;

/** One multi-key DEL: the positions in `commands` it carries, in order, and their keys. */
export interface MergedDelete {
  readonly members: readonly number[];
  readonly keys: readonly string[];
}

/** The merged deletes of one pipeline. */
export interface MergedDeletes {
  /** Each merged DEL, by the position of its first delete (where it goes in the pipeline). */
  readonly leaders: ReadonlyMap<number, MergedDelete>;
  /** The positions carried by a leader's DEL; they are not sent on their own. */
  readonly followers: ReadonlySet<number>;
}

const NONE: MergedDeletes = { leaders: new Map(), followers: new Set() };

/**
 * Merge the plain deletes among `indices` (one pipeline, in batch order) into DELs of up to
 * {@link MAX_KEYS_PER_DEL} keys, each placed where its first delete was. Only a delete whose key
 * has no other command in the pipeline is merged (after the core's coalescing, every key of a
 * batch): moving it cannot reorder anything on its key, and when the merged DEL is refused
 * (e.g. TRYAGAIN while its slot migrates) each delete can still be resent on its own, since no
 * later command on its key may have applied. On a cluster (`perSlot`) a DEL holds one slot's
 * keys, as the server requires.
 *
 * Callers keep keys ioredis may hash differently from the server out of multi-key pipelines
 * already (see `clientMayMisroute`); such a key comes here alone and stays alone.
 */
export function mergeDeletes(commands: readonly AnyCacheCommand[], indices: readonly number[], perSlot: boolean): MergedDeletes {
  // Commands per deleted key; other keys are never looked up, so they are not counted.
  const uses = new Map<string, number>();
  for (const index of indices) {
    const command = commands[index];
    if (command?.kind === 'delete') uses.set(command.key, (uses.get(command.key) ?? 0) + 1);
  }
  if (uses.size < 2) return NONE;
  for (const index of indices) {
    const command = commands[index];
    if (command !== undefined && command.kind !== 'delete' && uses.has(command.key)) uses.set(command.key, 2);
  }
  /** The DEL still taking keys, per slot; `first` is where it goes in the pipeline. */
  const open = new Map<number, { readonly first: number; readonly members: number[]; readonly keys: string[] }>();
  const leaders = new Map<number, MergedDelete>();
  const followers = new Set<number>();
  for (const index of indices) {
    const command = commands[index];
    if (command?.kind !== 'delete' || uses.get(command.key) !== 1) continue;
    const slot = perSlot ? keySlot(command.key) : 0;
    const current = open.get(slot);
    if (current !== undefined && current.members.length < MAX_KEYS_PER_DEL) {
      if (current.members.length === 1) leaders.set(current.first, current);
      current.members.push(index);
      current.keys.push(command.key);
      followers.add(index);
    } else {
      open.set(slot, { first: index, members: [index], keys: [command.key] });
    }
  }
  return { leaders, followers };
}
