/**
 * The reader's side of cache tags: per-call option checks, and reading (or creating) the
 * states of the tags an entry is read and filled under. See `../core/tags.ts` for why an entry
 * filled under old tag states can never be served.
 *
 * @module
 */
import * as z from 'zod/mini';
import type { CacheAdapter } from '../core/commands.js';
import { strictOptionIssues } from '../core/strict-options.js';
import { newTagState, parseTagState, tagKey, taggedKey } from '../core/tags.js';
import { ConfigError } from '../errors.js';

const tagsSchema = z.optional(
  z.array(z.string({ error: 'must be a non-empty string' }).check(z.minLength(1, { error: 'must be a non-empty string' })), {
    error: 'must be an array of non-empty strings (tag names)',
  }),
);
const seconds = (hint: string) => z.optional(z.number({ error: 'must be a number of seconds' }).check(z.positive({ error: `must be positive${hint}` })));

const getSchema = z.strictObject({ tags: tagsSchema });
const loadSchema = z.strictObject({
  tags: tagsSchema,
  ttlSeconds: seconds('; omit it for no expiry'),
  negativeTtlSeconds: seconds('; omit it to cache no "not found"'),
  versionOf: z.optional(z.custom<(value: never) => unknown>((v) => typeof v === 'function', { error: 'must be a function (value => version)' })),
});

/** Throw a ConfigError, before any cache traffic, when a `get` or `getOrLoad` call's options are wrong. */
export function checkCallOptions(call: 'get' | 'getOrLoad', options: unknown): void {
  if (options === undefined) return;
  const { issues, cause } = strictOptionIssues(call, call === 'get' ? getSchema : loadSchema, options);
  const { tags, versionOf } = (typeof options === 'object' && options !== null ? options : {}) as { tags?: unknown; versionOf?: unknown };
  if (tags !== undefined && versionOf !== undefined)
    issues.push(`${call}.versionOf: cannot be combined with tags (an entry of many items has no single version)`);
  if (issues.length > 0) throw new ConfigError(issues, { cause });
}

/** The tag states an entry is read under, and whether a recent change holds fills off. */
export interface ResolvedTags {
  /** The key the entry lives under for these tag states. */
  readonly entryKey: string;
  /** True when any tag changed less than the hold-off ago: serve hits, load without filling. */
  readonly heldOff: boolean;
}

/**
 * Read the states of `tags` in one round trip (concurrent gets, one key each, so tags on
 * different Redis Cluster slots never meet in one command). Answers `undefined` when a tag has
 * no state: nothing can have been filled under it.
 */
export async function readTags(adapter: CacheAdapter, key: string, tags: readonly string[], holdOffMs: number): Promise<ResolvedTags | undefined> {
  const states = await Promise.all(tags.map((tag) => adapter.get(tagKey(tag))));
  if (states.some((state) => state === undefined)) return undefined;
  return resolved(key, tags, states as string[], holdOffMs);
}

/**
 * Like {@link readTags}, but gives each tag without a state (never changed, expired or
 * evicted) a fresh one first, before the load: a change after this point replaces it, which
 * is what keeps a late fill unreachable. One more round trip, only for such tags.
 */
export async function ensureTags(adapter: CacheAdapter, key: string, tags: readonly string[], holdOffMs: number, tagTtlSeconds: number): Promise<ResolvedTags> {
  const states = await Promise.all(tags.map((tag) => adapter.get(tagKey(tag))));
  const missing = tags.flatMap((tag, i) => (states[i] === undefined ? [{ tag, i }] : []));
  if (missing.length > 0) {
    // A missing state may have been a bump that was evicted at once: count creation as a change
    // so the hold-off covers it too.
    const created = missing.map(({ tag, i }) => ({
      i,
      command: { kind: 'set' as const, key: tagKey(tag), value: newTagState(Date.now()), ttlSeconds: tagTtlSeconds },
    }));
    const results = await adapter.execute(created.map(({ command }) => command));
    created.forEach(({ i, command }, j) => {
      const result = results[j];
      if (result?.ok !== true)
        throw result?.ok === false ? result.error : new Error(`the cache did not answer the set of tag state ${JSON.stringify(command.key)}`);
      states[i] = command.value;
    });
  }
  return resolved(key, tags, states as string[], holdOffMs);
}

function resolved(key: string, tags: readonly string[], states: readonly string[], holdOffMs: number): ResolvedTags {
  const since = Date.now() - holdOffMs;
  return { entryKey: taggedKey(key, tags, states), heldOff: holdOffMs > 0 && states.some((state) => parseTagState(state).bumpedAtMs > since) };
}
