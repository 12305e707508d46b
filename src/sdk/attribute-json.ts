/**
 * The `dynamodb` codec's stored form (AttributeValue JSON, binary as base64) turned back into the
 * AttributeValues the SDK returns, and SDK items turned into that stored form.
 *
 * @module
 */
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import { convertImage } from '../core/attributes.js';

/** An item as the low-level SDK client returns it. */
export type SdkItem = Record<string, SdkAttributeValue>;

// The SDK hands binary out as plain Uint8Array (not Buffer): match it so results compare equal.
const bytes = (base64: unknown): Uint8Array => new Uint8Array(Buffer.from(String(base64), 'base64'));

function toSdkValue(av: Record<string, unknown>): SdkAttributeValue {
  if ('B' in av) return { B: bytes(av['B']) };
  if ('BS' in av && Array.isArray(av['BS'])) return { BS: av['BS'].map(bytes) };
  if ('M' in av) return { M: toSdkItem(av['M']) };
  if ('L' in av && Array.isArray(av['L'])) return { L: av['L'].map((v: unknown) => toSdkValue(v as Record<string, unknown>)) };
  // S, N, SS, NS, BOOL and NULL read back exactly as stored.
  return av as unknown as SdkAttributeValue;
}

function toSdkItem(map: unknown): SdkItem {
  const out: SdkItem = {};
  for (const [name, av] of Object.entries(map as Record<string, Record<string, unknown>>)) {
    // `__proto__` is a legal attribute name; assignment would set the prototype instead.
    Object.defineProperty(out, name, { value: toSdkValue(av), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Decode what a `dynamodb`-codec rule stored into the `Item` GetItem returns. */
export function decodeStoredItem(stored: string): SdkItem {
  return toSdkItem(JSON.parse(stored));
}

/**
 * Encode an SDK item exactly as the stream handler stores the same item (the normalized raw
 * image: binary as base64), so a reader fill and a stream write of one item agree.
 */
export function encodeSdkItem(item: SdkItem): string {
  return JSON.stringify(convertImage(item, 'Item').raw);
}

/** The top-level attributes `names` of `item` (all of it when `names` is undefined). */
export function projectItem<V>(item: Record<string, V>, names: readonly string[] | undefined): Record<string, V> {
  if (names === undefined) return item;
  const out: Record<string, V> = {};
  for (const name of names) {
    const av = Object.hasOwn(item, name) ? item[name] : undefined;
    if (av !== undefined) Object.defineProperty(out, name, { value: av, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
