/**
 * Built-in codecs. `json` stores JSON of the plain item; `dynamodb` stores the AttributeValue
 * image, losslessly. See `docs/codecs.md`.
 *
 * @module
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
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

function base64ToBytes(image: unknown): unknown {
  if (Array.isArray(image)) return image.map(base64ToBytes);
  if (typeof image !== 'object' || image === null) return image;
  const out: Record<string, unknown> = {};
  for (const [tag, value] of Object.entries(image)) {
    if (tag === 'B' && typeof value === 'string') out[tag] = Buffer.from(value, 'base64');
    else if (tag === 'BS' && Array.isArray(value)) out[tag] = value.map((b: unknown) => (typeof b === 'string' ? Buffer.from(b, 'base64') : b));
    else out[tag] = base64ToBytes(value);
  }
  return out;
}

/**
 * The AttributeValue image as JSON (binary as base64): lossless for every DynamoDB type.
 * `decode` returns what the SDK's DocumentClient would, with numbers wrapped
 * (`NumberValue`), sets as `Set`, binary as `Uint8Array`.
 */
export const dynamodbCodec: Codec = {
  name: 'dynamodb',
  encode: (value, { image, transformed }) =>
    JSON.stringify(transformed ? marshall(value, { removeUndefinedValues: true, convertClassInstanceToMap: true }) : image),
  decode: (stored) => unmarshall(base64ToBytes(JSON.parse(stored)) as Parameters<typeof unmarshall>[0], { wrapNumbers: true }),
};

/** Resolve a codec option to a codec. */
export function resolveCodec(codec: CodecName | Codec | undefined): Codec {
  if (codec === undefined || codec === 'json') return jsonCodec;
  if (codec === 'dynamodb') return dynamodbCodec;
  return codec;
}
