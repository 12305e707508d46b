/**
 * Monitor options and their validation: the handler's own config (validated by the handler's
 * validator) plus what only the monitor needs. Validated once, at cold start.
 *
 * @module
 */
import { validateConfig, type StreamHandlerConfig } from '../lambda/config.js';
import { ConfigError } from '../errors.js';
import type { CacheEquals } from './judge.js';
import type { LoadItem } from './load.js';

/** Options of {@link createConsistencyMonitor}: the handler's config plus the monitor's own. */
export interface ConsistencyMonitorOptions extends StreamHandlerConfig {
  /** The truth. Default: {@link dynamodbLoader}`()` (GetItem, ConsistentRead). */
  readonly load?: LoadItem;
  /**
   * How long after a record's `ApproximateCreationDateTime` its keys are checked, in ms.
   * Default 5,000. Keep it above the handler's normal `StreamLagMs`; the function timeout must
   * exceed the grace plus the checks.
   */
  readonly graceMs?: number;
  /**
   * Share of records checked, in (0, 1]. Default 1 (every record). Each sampled record costs
   * one cache GET per key it touches and 0 to 2 table reads (see docs/monitor.md).
   */
  readonly sampleRate?: number;
  /** Pause before the confirming re-read of a key that looks stale, in ms. Default 200. */
  readonly confirmMs?: number;
  /** How a cached payload is compared with the rule's encoding. Default: same string or same decoded value. */
  readonly equals?: CacheEquals;
  /** Delete keys found stale (a versioned tombstone at the record's version on versioned rules). Default `false`: the monitor never writes. */
  readonly repair?: boolean;
  /** Keys checked at once. Default 8. */
  readonly concurrency?: number;
}

const MONITOR_ONLY = ['load', 'graceMs', 'sampleRate', 'confirmMs', 'equals', 'repair', 'concurrency'] as const;

/** The monitor's own options with defaults applied. */
export interface ResolvedMonitorOptions {
  readonly load: LoadItem | undefined;
  readonly graceMs: number;
  readonly sampleRate: number;
  readonly confirmMs: number;
  readonly equals: CacheEquals | undefined;
  readonly repair: boolean;
  readonly concurrency: number;
}

function monitorIssues(options: Record<string, unknown>): string[] {
  const issues: string[] = [];
  const number = (name: string, ok: (n: number) => boolean, message: string) => {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || !ok(value))) issues.push(`${name}: ${message}`);
  };
  number('graceMs', (n) => n >= 0, 'must be a number of milliseconds, 0 or more');
  number('confirmMs', (n) => n >= 0, 'must be a number of milliseconds, 0 or more');
  number('sampleRate', (n) => n > 0 && n <= 1, 'must be a share of records above 0 and at most 1 (1 checks every record)');
  number('concurrency', (n) => Number.isInteger(n) && n >= 1, 'must be a whole number, 1 or more');
  for (const name of ['load', 'equals'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') issues.push(`${name}: must be a function`);
  }
  if (options['repair'] !== undefined && typeof options['repair'] !== 'boolean') issues.push('repair: must be true or false');
  return issues;
}

/**
 * Validate monitor options: the handler part with `validateConfig`, the rest here. Throws
 * {@link ConfigError} listing every problem as `path: message`.
 *
 * @example
 * ```ts
 * validateMonitorOptions({ adapter, rules, sampleRate: 0.01, graceMs: 10_000 });
 * ```
 */
export function validateMonitorOptions(options: ConsistencyMonitorOptions): { readonly config: StreamHandlerConfig; readonly monitor: ResolvedMonitorOptions } {
  if (typeof options !== 'object' || options === null) throw new ConfigError(['config: must be an object { adapter, rules, ... }']);
  const raw = options as unknown as Record<string, unknown>;
  const handlerPart: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) if (!(MONITOR_ONLY as readonly string[]).includes(name)) handlerPart[name] = value;
  const issues = monitorIssues(raw);
  let config: StreamHandlerConfig | undefined;
  try {
    config = validateConfig(handlerPart);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError([...error.issues, ...issues], { cause: error.cause });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    config,
    monitor: {
      load: options.load,
      graceMs: options.graceMs ?? 5_000,
      sampleRate: options.sampleRate ?? 1,
      confirmMs: options.confirmMs ?? 200,
      equals: options.equals,
      repair: options.repair ?? false,
      concurrency: options.concurrency ?? 8,
    },
  };
}
