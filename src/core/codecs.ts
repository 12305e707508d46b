/**
 * Built-in codecs. `json` stores JSON of the plain item; `dynamodb` stores the AttributeValue
 * image, losslessly. See `docs/codecs.md`.
 *
 * @module
 */
import { convertToAttr, convertToNative } from '@aws-sdk/util-dynamodb';
import { defineAttribute } from './attributes.js';
import type { Codec, CodecName } from './rules.js';

/**
 * JSON of the plain item: sets as arrays, binary as base64 strings, numbers as JS numbers when
 * exact, otherwise as their exact decimal strings. `decode` is `JSON.parse`.
 */
export const jsonCodec: Codec = {
  name: 'json',
  encode: (value) => JSON.stringify(value),
  decode: (stored) => JSON.parse(stored) as unknown,
};

const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

type SdkAttributeValue = Parameters<typeof convertToNative>[0];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function has(object: object, tag: string): boolean {
  return Object.hasOwn(object, tag);
}

/*
 * Maps and lists are walked here, not by the SDK's marshall/unmarshall: those assign attribute
 * names with `map[name] = ...`, which drops an attribute named `__proto__` (it sets the
 * prototype instead), and marshall classifies an object by `value.constructor.name`, which an
 * attribute named `constructor` controls. Scalars and sets still go through the SDK.
 */

function toAttribute(value: unknown): unknown {
  if (Array.isArray(value)) return { L: value.filter((member) => member !== undefined).map(toAttribute) };
  if (isPlainObject(value)) return { M: toAttributeMap(value) };
  return convertToAttr(value, MARSHALL_OPTIONS);
}

function toAttributeMap(object: Record<string, unknown>): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const name of Object.keys(object)) {
    const member = object[name];
    if (member !== undefined && typeof member !== 'function') defineAttribute(map, name, toAttribute(member));
  }
  return map;
}

/** What the SDK's `marshall` returns: a map or list unwrapped, any other value as its AttributeValue. */
function marshallValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((member) => member !== undefined).map(toAttribute);
  if (isPlainObject(value)) return toAttributeMap(value);
  return convertToAttr(value, MARSHALL_OPTIONS);
}

function fromAttribute(av: unknown): unknown {
  if (typeof av === 'object' && av !== null) {
    const tagged = av as Record<string, unknown>;
    if (has(tagged, 'M')) return fromAttributeMap(tagged['M']);
    if (has(tagged, 'L') && Array.isArray(tagged['L'])) return tagged['L'].map(fromAttribute);
    // Binary is stored as base64 (JSON has no bytes).
    if (has(tagged, 'B') && typeof tagged['B'] === 'string') return Buffer.from(tagged['B'], 'base64');
    if (has(tagged, 'BS') && Array.isArray(tagged['BS'])) {
      return new Set(tagged['BS'].map((b: unknown) => (typeof b === 'string' ? Buffer.from(b, 'base64') : b)));
    }
  }
  return convertToNative(av as SdkAttributeValue, { wrapNumbers: true });
}

function fromAttributeMap(map: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof map !== 'object' || map === null) return out;
  for (const name of Object.keys(map)) defineAttribute(out, name, fromAttribute((map as Record<string, unknown>)[name]));
  return out;
}

/**
 * The AttributeValue image as JSON (binary as base64): lossless for every DynamoDB type and
 * every attribute name, `__proto__` included.
 * `decode` returns what the SDK's DocumentClient would, with numbers wrapped
 * (`NumberValue`), sets as `Set`, binary as `Uint8Array`.
 */
export const dynamodbCodec: Codec = {
  name: 'dynamodb',
  encode: (value, { image, transformed }) => JSON.stringify(transformed ? marshallValue(value) : image),
  decode: (stored) => fromAttributeMap(JSON.parse(stored)),
};

/** Resolve a codec option to a codec. */
export function resolveCodec(codec: CodecName | Codec | undefined): Codec {
  if (codec === undefined || codec === 'json') return jsonCodec;
  if (codec === 'dynamodb') return dynamodbCodec;
  return codec;
}
