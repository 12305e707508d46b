/**
 * The `json` codec's encoding in one pass over a validated AttributeValue image: the same bytes
 * as `JSON.stringify` of the plain item (`docs/codecs.md`), without building the item first.
 * Only for normalized images (`Image.raw`): every AttributeValue has exactly one type tag,
 * numbers are checked decimals and binary is base64.
 *
 * An experiment of issue #14, kept with the bench (`node bench/run.mjs encode`): it measured
 * slower than `JSON.stringify` of the built item, so the library does not use it.
 *
 * @module
 */
import { exactNumber } from '../../src/core/attributes.js';
import type { AttributeMap, AttributeValue } from '../../src/core/rules.js';

const quote = JSON.stringify as (value: string) => string;

function numberJson(text: string): string {
  const n = exactNumber(text);
  return typeof n === 'number' ? String(n) : quote(n);
}

function listJson(values: readonly string[], each: (value: string) => string): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + each(values[i] as string);
  return `${out}]`;
}

function valueJson(av: AttributeValue): string {
  if ('S' in av) return quote(av.S);
  if ('N' in av) return numberJson(av.N);
  if ('M' in av) return imageToJson(av.M);
  if ('L' in av) {
    let out = '[';
    for (let i = 0; i < av.L.length; i++) out += (i === 0 ? '' : ',') + valueJson(av.L[i] as AttributeValue);
    return `${out}]`;
  }
  if ('BOOL' in av) return av.BOOL ? 'true' : 'false';
  if ('NULL' in av) return 'null';
  if ('SS' in av) return listJson(av.SS, quote);
  if ('NS' in av) return listJson(av.NS, numberJson);
  // A normalized image holds binary as base64 strings only.
  if ('B' in av) return quote(String(av.B));
  if ('BS' in av) return listJson(av.BS.map(String), quote);
  throw new Error('AttributeValue has no type');
}

/**
 * `JSON.stringify` of the plain item of `image`, computed from the image. Map members come out
 * in the image's own property order, which is the plain item's order too (both are built by
 * walking the image with `for…in`).
 */
export function imageToJson(image: AttributeMap): string {
  let out = '{';
  let first = true;
  for (const name in image) {
    if (!Object.hasOwn(image, name)) continue;
    const av = image[name];
    if (av === undefined) continue;
    out += `${first ? '' : ','}${quote(name)}:${valueJson(av)}`;
    first = false;
  }
  return `${out}}`;
}
