/**
 * The one deadline helper of the adapters: a bound on how long an adapter waits for something
 * its client may never settle (a reply on a connection closed without an error, a readiness
 * event that never comes, a QUIT the server never answers).
 *
 * @module
 */

/** A timer: `expired` resolves once `ms` have passed, unless `cancel` ran first. */
export interface Deadline {
  readonly expired: Promise<void>;
  /** Stop the timer; `expired` then never resolves. Always call it, so no timer outlives its wait. */
  cancel(): void;
}

/** Start a {@link Deadline} of `ms` milliseconds. */
export function deadline(ms: number): Deadline {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
}

/**
 * Settle like `work`, or, when `ms` pass first, like `onExpired()` (its value, or what it
 * throws). The timer is cleared either way. `work` keeps running after expiry: the caller
 * decides in `onExpired` what to do with a client that did not answer.
 *
 * @example
 * ```ts
 * const how = await withDeadline(client.quit().then(() => 'quit' as const), 1_000, () => 'late' as const);
 * ```
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onExpired: () => T): Promise<T> {
  const { expired, cancel } = deadline(ms);
  try {
    return await Promise.race([work, expired.then(onExpired)]);
  } finally {
    cancel();
  }
}
