/**
 * Runs one batch of cache commands on a Redis or Valkey client: one pipeline per node, all
 * pipelines concurrently, each command's reply mapped back to its position.
 *
 * @module
 */
import type { AnyCacheCommand, CommandResult } from '../../core/commands.js';
import { isCanonicalVersion } from '../../core/versioned.js';
import { CacheCommandError, CacheUnavailableError } from '../../errors.js';
import { cleanError } from './clean-error.js';
import type { PipelineReply, RedisClientLike, RedisPipelineLike } from './client.js';
import { mergeDeletes } from './multi-delete.js';
import { DELETE_VERSIONED, type LuaScript, SET_VERSIONED } from './scripts.js';
import { clientMayMisroute, keySlot } from './slot.js';
import { describeKey, describeValue } from '../../core/key-hash.js';

type Command = AnyCacheCommand;

/** Rounds of resends (MOVED/ASK/TRYAGAIN redirects, NOSCRIPT) after the first send, per batch. */
const MAX_RESEND_ROUNDS = 3;

/** A cluster client whose slot map the adapter can read. */
type ClusterClient = RedisClientLike & { readonly slots: ReadonlyArray<ReadonlyArray<string> | undefined> };

function asCluster(client: RedisClientLike): ClusterClient | undefined {
  return client.isCluster === true && Array.isArray(client.slots) ? (client as ClusterClient) : undefined;
}

/** What happened to one command, before it becomes a public {@link CommandResult}. */
type Outcome =
  | { readonly state: 'ok' }
  /**
   * The server answered with an error: the command did not take effect. `resend` when the
   * error asks for the command again: a redirect, or NOSCRIPT (the node lacks the script).
   */
  | { readonly state: 'refused'; readonly cause: Error; readonly resend: boolean }
  /** No (usable) answer: the command may or may not have taken effect. */
  | { readonly state: 'unknown'; readonly cause: Error };

const REDIRECT = /^(MOVED|ASK|TRYAGAIN)\b/;
const NOSCRIPT = /^NOSCRIPT\b/;

export function isReplyError(error: Error): boolean {
  // ioredis (via redis-errors) names server error replies `ReplyError`; anything else it raises
  // (timeouts, closed connections, client-side checks) leaves the outcome unknown.
  return error.name === 'ReplyError';
}

function commandName(command: Command): string {
  switch (command.kind) {
    case 'set':
      return 'SET';
    case 'delete':
      return 'DEL';
    default:
      return `${command.kind} script`;
  }
}

function scriptOf(command: Command): LuaScript | undefined {
  if (command.kind === 'set-versioned') return SET_VERSIONED;
  if (command.kind === 'delete-versioned') return DELETE_VERSIONED;
  return undefined;
}

/** Script arguments of a versioned command, after its key. TTLs go as milliseconds. */
function scriptArgs(command: Command): string[] {
  if (command.kind === 'set-versioned') {
    return [command.version, command.value, command.ttlSeconds === undefined ? '' : String(Math.round(command.ttlSeconds * 1000))];
  }
  if (command.kind === 'delete-versioned') return [command.version, String(Math.round(command.tombstoneTtlSeconds * 1000))];
  return [];
}

/** Why `command` cannot be sent at all, or `undefined` when it can. */
function unsendable(pipeline: RedisPipelineLike, command: Command): string | undefined {
  if (command.kind !== 'set-versioned' && command.kind !== 'delete-versioned') return undefined;
  if (!isCanonicalVersion(command.version)) return `version (${describeValue(command.version)}) is not a canonical decimal integer`;
  if (typeof pipeline.evalsha !== 'function' || typeof pipeline.eval !== 'function') {
    return 'the client has no evalsha/eval on its pipelines, which versioned commands need';
  }
  return undefined;
}

/** Queue `command`; a versioned one by EVALSHA, or by EVAL when the node lacked the script. */
function queue(pipeline: RedisPipelineLike, command: Command, useEval: boolean): void {
  const script = scriptOf(command);
  if (script !== undefined) {
    const args = [command.key, ...scriptArgs(command)];
    if (useEval) pipeline.eval?.(script.body, 1, ...args);
    else pipeline.evalsha?.(script.sha, 1, ...args);
  } else if (command.kind === 'delete') {
    pipeline.del(command.key);
  } else if (command.kind === 'set') {
    // SET without EX also clears a TTL the key had: what "no ttlSeconds means no expiry" requires.
    if (command.ttlSeconds === undefined) pipeline.set(command.key, command.value);
    else pipeline.set(command.key, command.value, 'EX', command.ttlSeconds);
  }
}

function accepted(command: Command, result: unknown): boolean {
  if (command.kind === 'set') return result === 'OK' || (result instanceof Uint8Array && Buffer.from(result).toString() === 'OK');
  // DEL and the versioned scripts answer an integer (a versioned write refused as older
  // answers 0: the key already holds newer data, a success). ioredis `stringNumbers: true`
  // turns integers into decimal strings.
  return typeof result === 'number' || (typeof result === 'string' && /^\d+$/.test(result));
}

/**
 * Every error the client hands the adapter, as the adapter keeps it: a clean copy without the
 * command arguments ioredis attaches (passwords, item data); see {@link cleanError}.
 */
export function toError(value: unknown): Error {
  return cleanError(value);
}

/** Shared: most commands succeed, and an object per success is garbage for every batch. */
const OK: Outcome = Object.freeze({ state: 'ok' });
const SUCCESS: CommandResult = Object.freeze({ ok: true });

function outcomeOf(command: Command, reply: PipelineReply | undefined): Outcome {
  if (reply === undefined) return { state: 'unknown', cause: new Error('the pipeline returned no reply for this command') };
  const [error, result] = reply;
  if (error) {
    const cause = toError(error);
    if (!isReplyError(cause)) return { state: 'unknown', cause };
    return { state: 'refused', cause, resend: REDIRECT.test(cause.message) || NOSCRIPT.test(cause.message) };
  }
  if (accepted(command, result)) return OK;
  return { state: 'unknown', cause: new Error(`unexpected reply (${describeValue(result)})`) };
}

/**
 * How a pipeline sends versioned commands. `first`: SCRIPT LOAD for each script the pipeline
 * uses, then EVALSHA, all in the same pipeline: the node has the script by the time EVALSHA
 * arrives (a fresh node, restart or SCRIPT FLUSH would otherwise answer NOSCRIPT), at the cost
 * of one script body per script per pipeline, not per command. `resend`: EVAL with the body,
 * since a redirect may lead to a node without the script, and a resend pipeline must hold only
 * keyed commands for ioredis to follow MOVED/ASK for it. Plain deletes go as multi-key DELs in
 * `first` ({@link mergeDeletes}) and one DEL per key in `resend`: during a slot migration a
 * multi-key DEL whose keys are split between the two nodes is refused (TRYAGAIN) until the
 * migration ends, while single-key commands follow ASK.
 */
type Mode = 'first' | 'resend';

/**
 * Send `indices` of `commands` as one pipeline; fill `outcomes` at those indices. `cluster`: a
 * multi-key DEL must hold keys of one slot.
 */
async function runPipeline(
  client: RedisClientLike,
  commands: readonly Command[],
  indices: readonly number[],
  outcomes: Outcome[],
  mode: Mode,
  cluster: boolean,
): Promise<void> {
  /** Per pipeline entry, the position of its command (the first one, for a merged DEL). */
  const sent: number[] = [];
  /** Per pipeline entry of a merged DEL, every position it carries; one reply decides them all. */
  const carried = new Map<number, readonly number[]>();
  let replies: PipelineReply[] | null;
  let preamble = 0;
  try {
    const pipeline = client.pipeline();
    if (mode === 'first' && typeof pipeline.script === 'function') {
      const scripts = new Set<LuaScript>();
      for (const index of indices) {
        const command = commands[index];
        const script = command === undefined ? undefined : scriptOf(command);
        if (script !== undefined) scripts.add(script);
      }
      for (const script of scripts) pipeline.script('LOAD', script.body);
      preamble = scripts.size;
    }
    const found = mode === 'first' ? mergeDeletes(commands, indices, cluster) : undefined;
    // Most pipelines merge nothing (a write-through batch is mostly SETs): skip two lookups per command.
    const merged = found !== undefined && found.leaders.size > 0 ? found : undefined;
    for (const index of indices) {
      const command = commands[index];
      if (command === undefined || merged?.followers.has(index)) continue;
      const del = merged?.leaders.get(index);
      if (del !== undefined) {
        carried.set(sent.length, del.members);
        pipeline.del(...del.keys);
        sent.push(index);
        continue;
      }
      const reason = unsendable(pipeline, command);
      if (reason !== undefined) {
        outcomes[index] = { state: 'refused', cause: new Error(reason), resend: false };
        continue;
      }
      queue(pipeline, command, mode === 'resend');
      sent.push(index);
    }
    if (sent.length === 0) return;
    replies = await pipeline.exec();
  } catch (error) {
    const cause = toError(error);
    sent.forEach((index, position) => {
      for (const member of carried.get(position) ?? [index]) outcomes[member] = { state: 'unknown', cause };
    });
    return;
  }
  // A failed SCRIPT LOAD needs no handling here: the EVALSHA after it answers NOSCRIPT, which
  // is resent by EVAL.
  const merging = carried.size > 0;
  for (let position = 0; position < sent.length; position++) {
    const index = sent[position] as number;
    const command = commands[index];
    if (command === undefined) continue;
    const outcome: Outcome =
      replies === null
        ? { state: 'unknown', cause: new Error('the pipeline was aborted (exec returned null)') }
        : outcomeOf(command, replies[preamble + position]);
    const members = merging ? carried.get(position) : undefined;
    if (members === undefined) outcomes[index] = outcome;
    // A multi-key DEL succeeds or fails as a whole: its outcome is every carried delete's.
    else for (const member of members) outcomes[member] = outcome;
  }
}

/**
 * Group command positions by the set of nodes serving their slot, keeping command order inside
 * each group. ioredis accepts a cluster pipeline only when every key maps to the same node set
 * (`slots[slot]`), so that is the grouping key; a slot the map does not know yet gets its own
 * group and ioredis follows the MOVED reply for it. A key ioredis may hash differently from the
 * server ({@link clientMayMisroute}) goes alone: ioredis sends it wherever its own slot view says,
 * and a pipeline of one command follows the MOVED reply to the right node.
 */
export function groupByNode(commands: readonly Command[], indices: readonly number[], slots: ReadonlyArray<ReadonlyArray<string> | undefined>): number[][] {
  const groups = new Map<string, number[]>();
  for (const index of indices) {
    const command = commands[index];
    if (command === undefined) continue;
    if (clientMayMisroute(command.key)) {
      groups.set(`alone:${index}`, [index]);
      continue;
    }
    const slot = keySlot(command.key);
    const nodes = slots[slot];
    const id = nodes && nodes.length > 0 ? nodes.join(';') : `slot:${slot}`;
    const group = groups.get(id);
    if (group) group.push(index);
    else groups.set(id, [index]);
  }
  return [...groups.values()];
}

/**
 * Group positions by hash slot, in order: a pipeline ioredis can redirect as a whole. A key
 * ioredis may hash differently goes alone, as in {@link groupByNode}.
 */
export function groupBySlot(keyed: readonly { readonly key: string }[], indices: readonly number[]): number[][] {
  const groups = new Map<number, number[]>();
  for (const index of indices) {
    const item = keyed[index];
    if (item === undefined) continue;
    // Slots are 0..16383, so a negative id cannot collide with a slot group.
    const slot = clientMayMisroute(item.key) ? -1 - index : keySlot(item.key);
    const group = groups.get(slot);
    if (group) group.push(index);
    else groups.set(slot, [index]);
  }
  return [...groups.values()];
}

/**
 * Positions refused with a redirect or NOSCRIPT that are safe to resend: only when no later
 * command on the same key may have taken effect, or the resend would overwrite newer data.
 */
function resendable(commands: readonly Command[], outcomes: readonly Outcome[]): number[] {
  if (!outcomes.some((outcome) => outcome.state === 'refused' && outcome.resend)) return [];
  const laterMayHaveApplied = new Set<string>();
  const picked: number[] = [];
  for (let index = commands.length - 1; index >= 0; index--) {
    const command = commands[index];
    const outcome = outcomes[index];
    if (command === undefined || outcome === undefined) continue;
    if (outcome.state === 'refused' && outcome.resend && !laterMayHaveApplied.has(command.key)) picked.push(index);
    if (outcome.state !== 'refused') laterMayHaveApplied.add(command.key);
  }
  return picked.reverse();
}

const HINTS: readonly [RegExp, string][] = [
  [/^NOPERM/, 'the Redis user lacks permission for this key or command; grant it with an ACL rule (e.g. ~prefix:* +set +del +get)'],
  [/^(NOAUTH|WRONGPASS)/, 'check the username and password (url credentials or the client you passed)'],
  [/^READONLY/, 'the connection points at a replica; use the primary or configuration endpoint'],
  [/^OOM/, 'the server reached maxmemory; raise it or choose an evicting maxmemory-policy'],
  [/^(MOVED|ASK|TRYAGAIN)/, 'the cluster slot kept moving while the batch ran; a retry of the batch will apply it'],
  [/^NOSCRIPT/, 'the server kept dropping its script cache; a retry of the batch will apply it'],
  [/invalid expire time/, 'ttlSeconds must be a positive whole number'],
  [/timed out/i, 'no reply within the command timeout; raise commandTimeoutMs or check the network path'],
];

/** What to check or change for a command that failed with `message`, as ` (...)` (or nothing). */
export function commandErrorHint(message: string): string {
  const hint = HINTS.find(([pattern]) => pattern.test(message));
  return hint ? ` (${hint[1]})` : '';
}

/** The public result for a failed command: refused by the server, or outcome unknown. */
export function failure(command: Command, cause: Error, refused: boolean, adapter = 'redis'): CommandResult {
  const name = commandName(command);
  const context = { key: command.key, command: name };
  if (refused) {
    return {
      ok: false,
      error: new CacheCommandError(`Redis refused ${name} ${describeKey(command.key)}: ${cause.message}${commandErrorHint(cause.message)}`, context, { cause }),
    };
  }
  const unavailable =
    cause instanceof CacheUnavailableError
      ? cause
      : new CacheUnavailableError(`Redis did not answer: ${cause.message}${commandErrorHint(cause.message)}`, { adapter }, { cause });
  return {
    ok: false,
    error: new CacheCommandError(`${name} ${describeKey(command.key)} has an unknown outcome, reported failed: ${unavailable.message}`, context, {
      cause: unavailable,
    }),
  };
}

/**
 * Execute `commands` on `client`: standalone, one pipeline; cluster, one pipeline per node sent
 * concurrently. Then commands the server asked for again (cluster slot moved: MOVED/ASK/TRYAGAIN;
 * no script: NOSCRIPT) are resent when that cannot reorder writes to a key, grouped by slot so
 * ioredis can follow MOVED/ASK for each pipeline, versioned ones by EVAL.
 */
export async function executeBatch(client: RedisClientLike, commands: readonly Command[], adapter = 'redis'): Promise<CommandResult[]> {
  if (commands.length === 0) return [];
  const outcomes: Outcome[] = new Array<Outcome>(commands.length);
  const all = commands.map((_, index) => index);
  const cluster = asCluster(client);
  if (cluster !== undefined && cluster.slots.length === 0) {
    // ioredis fills the slot map on connect; an empty pipeline's exec() waits for that.
    try {
      await cluster.pipeline().exec();
    } catch (error) {
      const cause = toError(error);
      return commands.map((command) => failure(command, cause, false, adapter));
    }
  }
  const firstGroups = cluster === undefined ? [all] : groupByNode(commands, all, cluster.slots);
  await Promise.all(firstGroups.map((group) => runPipeline(client, commands, group, outcomes, 'first', cluster !== undefined)));
  for (let round = 0; round < MAX_RESEND_ROUNDS; round++) {
    const again = resendable(commands, outcomes);
    if (again.length === 0) break;
    const groups = cluster === undefined ? [again] : groupBySlot(commands, again);
    await Promise.all(groups.map((group) => runPipeline(client, commands, group, outcomes, 'resend', cluster !== undefined)));
  }
  return commands.map((command, index) => {
    const outcome = outcomes[index];
    if (outcome === undefined) return failure(command, new Error('no outcome recorded'), false, adapter);
    if (outcome.state === 'ok') return SUCCESS;
    return failure(command, outcome.cause, outcome.state === 'refused', adapter);
  });
}
