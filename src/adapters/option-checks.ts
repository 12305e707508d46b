/**
 * Checks of adapter options shared by the adapters, so that every adapter words the same
 * problem the same way.
 *
 * @module
 */

/**
 * Push an issue for `path` unless `value` is absent or a finite number above 0. Durations are
 * milliseconds across the adapters (`...Ms`), hence the default unit.
 */
export function checkPositive(path: string, value: unknown, issues: string[], unit = 'milliseconds'): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    issues.push(`${path}: must be a positive number of ${unit}, got ${String(value)}`);
  }
}

/** Push an issue for `path` unless `value` is absent or a whole number above 0 (of `unit`). */
export function checkPositiveWhole(path: string, value: unknown, issues: string[], unit: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    issues.push(`${path}: must be a positive whole number of ${unit}, got ${String(value)}`);
  }
}
