/**
 * `waitForIdle`: tell when every record written before a call has been dealt with, by logical
 * ticks rather than wall time: each shard must have come back empty from a read that started
 * after the call, and a discovery must have started after it too.
 *
 * @module
 */
import { RunnerTimeoutError, StreamReadError } from '../errors.js';
import type { RunnerContext } from './context.js';
import { discoverReportingErrors } from './shards.js';

/** Shards (or the pending discovery) not yet idle since tick `since`. */
export function busyShards(ctx: RunnerContext, since: number): string[] {
  if (ctx.discoveredSince <= since) return ['(shard discovery)'];
  return [...ctx.shards.values()]
    .filter((shard) => shard.status !== 'done' && !(shard.status === 'reading' && shard.idleSince > since))
    .map((shard) => shard.id);
}

export async function waitUntilIdle(ctx: RunnerContext, timeoutMs: number): Promise<void> {
  if (ctx.state !== 'running') throw new StreamReadError('waitForIdle needs a running stream runner; call start() first');
  const since = ++ctx.tick;
  // A discovery that starts after this call also catches shards created by recent writes.
  const deadline = Date.now() + timeoutMs;
  let nextDiscovery = Date.now();
  while (busyShards(ctx, since).length > 0) {
    if (ctx.state !== 'running') throw new StreamReadError('the stream runner was stopped while waiting for it to be idle');
    if (Date.now() > deadline) throw new RunnerTimeoutError(timeoutMs, busyShards(ctx, since));
    if (ctx.discoveredSince <= since && Date.now() >= nextDiscovery) {
      nextDiscovery = Date.now() + ctx.settings.discoveryMs;
      await discoverReportingErrors(ctx);
      continue;
    }
    await ctx.sleep(Math.min(ctx.settings.pollMs, 20));
  }
}
