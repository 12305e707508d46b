/**
 * Type guards shared by the core and the record sources.
 *
 * @module
 */

/** A plain object (not null, not an array): the shape of every record and payload we read. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
