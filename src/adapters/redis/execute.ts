/**
 * Runs one batch of cache commands on a Redis or Valkey client: one pipeline per node, all
 * pipelines concurrently, each command's reply mapped back to its position.
 *
 * @module
 */
import type { CacheCommand, CommandResult } from '../../core/commands.js';
import { CacheCommandError, CacheUnavailableError } from '../../errors.js';
import type { PipelineReply, RedisClientLike, RedisPipelineLike } from './client.js';
import { keySlot } from './slot.js';

/** Rounds of redirect retries (MOVED/ASK/TRYAGAIN) after the first send, per batch. */
const MAX_REDIRECT_ROUNDS = 3;

/** A cluster client whose slot map the adapter can read. */
type ClusterClient = RedisClientLike & { readonly slots: ReadonlyArray<ReadonlyArray<string> | undefined> };

function asCluster(client: RedisClientLike): ClusterClient | undefined {
  return client.isCluster === true && Array.isArray(client.slots) ? (client as ClusterClient) : undefined;
}

/** What happened to one command, before it becomes a public {@link CommandResult}. */
type Outcome =
  | { readonly state: 'ok' }
  /** The server answered with an error: the command did not take effect. */
  | { readonly state: 'refused'; readonly cause: Error; readonly redirect: boolean }
  /** No (usable) answer: the command may or may not have taken effect. */
  | { readonly state: 'unknown'; readonly cause: Error };

const REDIRECT = /^(MOVED|ASK|TRYAGAIN)\b/;

function isReplyError(error: Error): boolean {
  // ioredis (via redis-errors) names server error replies `ReplyError`; anything else it raises
  // (timeouts, closed connections, client-side checks) leaves the outcome unknown.
  return error.name === 'ReplyError';
}

function commandName(command: CacheCommand): string {
  return command.kind === 'set' ? 'SET' : 'DEL';
}

function queue(pipeline: RedisPipelineLike, command: CacheCommand): void {
  if (command.kind === 'delete') pipeline.del(command.key);
  // SET without EX also clears a TTL the key had: what "no ttlSeconds means no expiry" requires.
  else if (command.ttlSeconds === undefined) pipeline.set(command.key, command.value);
  else pipeline.set(command.key, command.value, 'EX', command.ttlSeconds);
}

function accepted(command: CacheCommand, result: unknown): boolean {
  if (command.kind === 'set') return result === 'OK' || (result instanceof Uint8Array && Buffer.from(result).toString() === 'OK');
  // DEL answers an integer; ioredis `stringNumbers: true` turns it into a decimal string.
  return typeof result === 'number' || (typeof result === 'string' && /^\d+$/.test(result));
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function outcomeOf(command: CacheCommand, reply: PipelineReply | undefined): Outcome {
  if (reply === undefined) return { state: 'unknown', cause: new Error('the pipeline returned no reply for this command') };
  const [error, result] = reply;
  if (error) {
    const cause = toError(error);
    if (isReplyError(cause)) return { state: 'refused', cause, redirect: REDIRECT.test(cause.message) };
    return { state: 'unknown', cause };
  }
  if (accepted(command, result)) return { state: 'ok' };
  return { state: 'unknown', cause: new Error(`unexpected reply ${JSON.stringify(result)}`) };
}

/** Send `indices` of `commands` as one pipeline; fill `outcomes` at those indices. */
async function runPipeline(
  client: RedisClientLike,
  commands: readonly CacheCommand[],
  indices: readonly number[],
  outcomes: Outcome[],
): Promise<void> {
  let replies: PipelineReply[] | null;
  try {
    const pipeline = client.pipeline();
    for (const index of indices) {
      const command = commands[index];
      if (command !== undefined) queue(pipeline, command);
    }
    replies = await pipeline.exec();
  } catch (error) {
    const cause = toError(error);
    for (const index of indices) outcomes[index] = { state: 'unknown', cause };
    return;
  }
  indices.forEach((index, position) => {
    const command = commands[index];
    if (command === undefined) return;
    outcomes[index] =
      replies === null
        ? { state: 'unknown', cause: new Error('the pipeline was aborted (exec returned null)') }
        : outcomeOf(command, replies[position]);
  });
}

/**
 * Group command positions by the set of nodes serving their slot, keeping command order inside
 * each group. ioredis accepts a cluster pipeline only when every key maps to the same node set
 * (`slots[slot]`), so that is the grouping key; a slot the map does not know yet gets its own
 * group and ioredis follows the MOVED reply for it.
 */
export function groupByNode(
  commands: readonly CacheCommand[],
  indices: readonly number[],
  slots: ReadonlyArray<ReadonlyArray<string> | undefined>,
): number[][] {
  const groups = new Map<string, number[]>();
  for (const index of indices) {
    const command = commands[index];
    if (command === undefined) continue;
    const slot = keySlot(command.key);
    const nodes = slots[slot];
    const id = nodes && nodes.length > 0 ? nodes.join(';') : `slot:${slot}`;
    const group = groups.get(id);
    if (group) group.push(index);
    else groups.set(id, [index]);
  }
  return [...groups.values()];
}

/** Group positions by hash slot, in order: a pipeline ioredis can redirect as a whole. */
function groupBySlot(commands: readonly CacheCommand[], indices: readonly number[]): number[][] {
  const groups = new Map<number, number[]>();
  for (const index of indices) {
    const command = commands[index];
    if (command === undefined) continue;
    const slot = keySlot(command.key);
    const group = groups.get(slot);
    if (group) group.push(index);
    else groups.set(slot, [index]);
  }
  return [...groups.values()];
}

/**
 * Positions refused with a redirect that are safe to resend: resending is only safe when no later
 * command on the same key may have taken effect, or the resend would overwrite newer data.
 */
function resendable(commands: readonly CacheCommand[], outcomes: readonly Outcome[]): number[] {
  const laterMayHaveApplied = new Set<string>();
  const picked: number[] = [];
  for (let index = commands.length - 1; index >= 0; index--) {
    const command = commands[index];
    const outcome = outcomes[index];
    if (command === undefined || outcome === undefined) continue;
    if (outcome.state === 'refused' && outcome.redirect && !laterMayHaveApplied.has(command.key)) picked.push(index);
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
  [/invalid expire time/, 'ttlSeconds must be a positive whole number'],
  [/timed out/i, 'no reply within the command timeout; raise commandTimeoutMs or check the network path'],
];

function hintFor(message: string): string {
  const hint = HINTS.find(([pattern]) => pattern.test(message));
  return hint ? ` (${hint[1]})` : '';
}

function describeKey(key: string): string {
  return JSON.stringify(key.length > 200 ? `${key.slice(0, 200)}…` : key);
}

/** The public result for a failed command: refused by the server, or outcome unknown. */
export function failure(command: CacheCommand, cause: Error, refused: boolean, adapter = 'redis'): CommandResult {
  const name = commandName(command);
  const context = { key: command.key, command: name };
  if (refused) {
    return {
      ok: false,
      error: new CacheCommandError(`Redis refused ${name} ${describeKey(command.key)}: ${cause.message}${hintFor(cause.message)}`, context, { cause }),
    };
  }
  const unavailable =
    cause instanceof CacheUnavailableError
      ? cause
      : new CacheUnavailableError(`Redis did not answer: ${cause.message}${hintFor(cause.message)}`, { adapter }, { cause });
  return {
    ok: false,
    error: new CacheCommandError(
      `${name} ${describeKey(command.key)} has an unknown outcome, reported failed: ${unavailable.message}`,
      context,
      { cause: unavailable },
    ),
  };
}

/**
 * Execute `commands` on `client`: standalone, one pipeline; cluster, one pipeline per node sent
 * concurrently, then commands redirected by a moving slot resent (by slot, so ioredis can follow
 * MOVED/ASK for each pipeline) when resending cannot reorder writes to a key.
 */
export async function executeBatch(
  client: RedisClientLike,
  commands: readonly CacheCommand[],
  adapter = 'redis',
): Promise<CommandResult[]> {
  if (commands.length === 0) return [];
  const outcomes: Outcome[] = new Array<Outcome>(commands.length);
  const all = commands.map((_, index) => index);
  const cluster = asCluster(client);
  if (cluster === undefined) {
    await runPipeline(client, commands, all, outcomes);
  } else {
    if (cluster.slots.length === 0) {
      // ioredis fills the slot map on connect; an empty pipeline's exec() waits for that.
      try {
        await cluster.pipeline().exec();
      } catch (error) {
        const cause = toError(error);
        return commands.map((command) => failure(command, cause, false, adapter));
      }
    }
    await Promise.all(groupByNode(commands, all, cluster.slots).map((group) => runPipeline(client, commands, group, outcomes)));
    for (let round = 0; round < MAX_REDIRECT_ROUNDS; round++) {
      const again = resendable(commands, outcomes);
      if (again.length === 0) break;
      await Promise.all(groupBySlot(commands, again).map((group) => runPipeline(client, commands, group, outcomes)));
    }
  }
  return commands.map((command, index) => {
    const outcome = outcomes[index];
    if (outcome === undefined) return failure(command, new Error('no outcome recorded'), false, adapter);
    if (outcome.state === 'ok') return { ok: true };
    return failure(command, outcome.cause, outcome.state === 'refused', adapter);
  });
}
