/**
 * Strict factory options: one way for every factory (adapters, reader) to refuse an option it
 * does not know, with the nearest valid spelling, and a value of the wrong type, naming the
 * option. A misspelled option would otherwise be ignored silently and its default used.
 *
 * @module
 */
import type * as z from 'zod/mini';
import { ConfigError } from '../errors.js';

/** Edit distance between `a` and `b` (insertions, deletions, substitutions), case ignored. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}

/**
 * The known option name closest to `name`, when one is close enough to be a misspelling: within
 * a third of its length in edits (at least 2, so `timeout` finds `timeoutMs`), or `name` plus a
 * unit suffix (`leaseTtl` finds `leaseTtlMs`).
 *
 * @example
 * ```ts
 * nearestName('commandTimeout', ['url', 'commandTimeoutMs']); // 'commandTimeoutMs'
 * ```
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const suffixed = known.find((candidate) => /^(.+)(Ms|Seconds|Bytes)$/.exec(candidate)?.[1]?.toLowerCase() === name.toLowerCase());
  if (suffixed !== undefined) return suffixed;
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function formatPath(factory: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : `${out}.${String(part)}`), factory);
}

/**
 * Check `options` of `factory` against a strict zod/mini object `schema`. Returns each problem
 * as `factory.option: message` (unknown options with the nearest valid spelling, except those
 * in `handledElsewhere`, which the factory words itself), and the zod error for `cause`.
 */
export function strictOptionIssues(
  factory: string,
  schema: z.ZodMiniObject,
  options: unknown,
  handledElsewhere: ReadonlySet<string> = new Set(),
): { issues: string[]; cause: unknown } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return { issues: [`${factory}: options must be an object`], cause: undefined };
  }
  const result = schema.safeParse(options);
  if (result.success) return { issues: [], cause: undefined };
  const known = Object.keys(schema.def.shape);
  const issues: string[] = [];
  for (const issue of result.error.issues) {
    if (issue.code !== 'unrecognized_keys') {
      issues.push(`${formatPath(factory, issue.path)}: ${issue.message}`);
      continue;
    }
    for (const key of issue.keys) {
      if (issue.path.length === 0 && handledElsewhere.has(key)) continue;
      const near = issue.path.length === 0 ? nearestName(key, known) : undefined;
      issues.push(
        `${formatPath(factory, [...issue.path, key])}: unknown option${near === undefined ? `; known options: ${known.join(', ')}` : `; did you mean ${near}?`}`,
      );
    }
  }
  return { issues, cause: result.error };
}

/** Throw {@link ConfigError} when {@link strictOptionIssues} finds any problem. */
export function assertStrictOptions(factory: string, schema: z.ZodMiniObject, options: unknown, handledElsewhere?: ReadonlySet<string>): void {
  const { issues, cause } = strictOptionIssues(factory, schema, options, handledElsewhere);
  if (issues.length > 0) throw new ConfigError(issues, { cause });
}
