/**
 * Cache tags: the stored format shared by the stream side (the `tags` strategy bumps a tag's
 * state on every change of an item that carries it) and the reader (entries are filled under
 * the tag states read before the load). See "query and list caches" in `docs/strategies.md` and
 * the stored-format table in `docs/consistency.md`.
 *
 * Why it is race-free: an entry is stored under a key derived from its own key and the exact
 * tag states it was loaded under. Every change replaces a tag's state with a fresh random
 * token, so a reader that loaded before a change and fills after it fills a key no reader will
 * look up again. Tokens are never reused, so a tag state that expired or was evicted and is
 * re-created never makes entries filled under the old state reachable again (a counter
 * restarting at 1 would).
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';

/** Prefix of every tag-state key: tag `orders-of:c1` lives at `ddbcs:tag:orders-of:c1`. */
export const TAG_KEY_PREFIX = 'ddbcs:tag:';

/** Default TTL of a tag state, in seconds (24 h); see {@link TagsRule.tagTtlSeconds}. */
export const DEFAULT_TAG_TTL_SECONDS = 86_400;

/** Separates an entry's own key from the digest of its tag states. */
export const TAGGED_KEY_MARK = '#tags:';

/** The key a tag's state lives under. */
export function tagKey(tag: string): string {
  return `${TAG_KEY_PREFIX}${tag}`;
}

/** A decoded tag state. */
export interface TagState {
  /** 128 random bits in hex: never reused. */
  readonly token: string;
  /** When the stream bumped it (epoch ms), or 0 when a reader created it (no change happened). */
  readonly bumpedAtMs: number;
}

/** A fresh tag state: `<32 hex digits>:<epoch ms>`. */
export function newTagState(bumpedAtMs: number): string {
  return `${randomBytes(16).toString('hex')}:${Math.max(0, Math.floor(bumpedAtMs))}`;
}

/** Decode a stored tag state. Anything unexpected is still a token (compared as a whole), never bumped. */
export function parseTagState(stored: string): TagState {
  const colon = stored.lastIndexOf(':');
  const at = colon < 0 ? NaN : Number(stored.slice(colon + 1));
  if (colon <= 0 || !Number.isSafeInteger(at) || at < 0) return { token: stored, bumpedAtMs: 0 };
  return { token: stored.slice(0, colon), bumpedAtMs: at };
}

/**
 * The key an entry is stored under when read with `tags` whose states are `states` (same order):
 * `<key>#tags:<first 32 hex digits of SHA-256 of the JSON of [[tag, state], ...] sorted by tag>`.
 * Reading with other tags, or after any of them changed, gives another key: a miss.
 */
export function taggedKey(key: string, tags: readonly string[], states: readonly string[]): string {
  const pairs = tags.map((tag, i) => [tag, states[i] ?? ''] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = createHash('sha256').update(JSON.stringify(pairs)).digest('hex').slice(0, 32);
  return `${key}${TAGGED_KEY_MARK}${digest}`;
}
