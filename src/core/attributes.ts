/**
 * Validating conversion of DynamoDB AttributeValues into the plain items rules see.
 *
 * One pass does three things: rejects malformed input with the attribute path at fault,
 * normalizes the raw image (binary as base64, null padding dropped) for lossless codecs, and
 * builds the JSON-safe item. See `docs/codecs.md` for the mapping.
 *
 * @module
 */
import type { AttributeMap, AttributeValue, Item } from './rules.js';

/** A malformed AttributeValue, with the path to it (e.g. `NewImage.address.zip`). */
export class AttributeError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'AttributeError';
    this.path = path;
  }
}

const TYPES = new Set(['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL']);
// Linear by construction: a quantified group followed by a fixed-width tail backtracks one group
// per position at most.
// Bounded to 38 characters below, where backtracking costs a constant.
const SHORT_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/**
 * DynamoDB allows 32 levels of nesting. Deeper input cannot come from DynamoDB, and converting it
 * recursively would overflow the stack instead of naming the attribute.
 */
const MAX_DEPTH = 32;

interface Decimal {
  negative: boolean;
  /** Significant digits without leading or trailing zeros ('' for zero). */
  digits: string;
  /** Value = 0.digits × 10^exponent. */
  exponent: number;
}

const ZERO = 48;
const NINE = 57;
const MINUS = 45;

function digitsEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) break;
    i++;
  }
  return i;
}

/**
 * Parse `[+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?` in one left-to-right pass,
 * or return undefined. A backtracking regex took seconds to refuse a 40,000-digit string ending
 * in a letter; this is linear in the length whatever the input.
 */
function parseDecimal(text: string): Decimal | undefined {
  let i = 0;
  let negative = false;
  const sign = text.charCodeAt(0);
  if (sign === 43 /* + */ || sign === 45 /* - */) {
    negative = sign === 45;
    i = 1;
  }
  const intStart = i;
  const intEnd = digitsEnd(text, intStart);
  let fracStart = intEnd;
  let fracEnd = intEnd;
  if (text.charCodeAt(intEnd) === 46 /* . */) {
    fracStart = intEnd + 1;
    fracEnd = digitsEnd(text, fracStart);
  }
  if (intEnd === intStart && fracEnd === fracStart) return undefined;
  i = fracEnd;
  let exp = 0;
  const e = text.charCodeAt(i);
  if (e === 101 /* e */ || e === 69 /* E */) {
    i++;
    const expSign = text.charCodeAt(i);
    if (expSign === 43 || expSign === 45) i++;
    const expEnd = digitsEnd(text, i);
    if (expEnd === i) return undefined;
    // A huge exponent becomes Infinity, which the range check refuses like any other.
    exp = Number(text.slice(i, expEnd)) * (expSign === 45 ? -1 : 1);
    i = expEnd;
  }
  if (i !== text.length) return undefined;
  const all = text.slice(intStart, intEnd) + text.slice(fracStart, fracEnd);
  let first = 0;
  while (first < all.length && all.charCodeAt(first) === ZERO) first++;
  let end = all.length;
  while (end > first && all.charCodeAt(end - 1) === ZERO) end--;
  if (first === end) return { negative: false, digits: '', exponent: 0 };
  return { negative, digits: all.slice(first, end), exponent: intEnd - intStart + exp - first };
}

function sameDecimal(a: Decimal, b: Decimal): boolean {
  return a.negative === b.negative && a.digits === b.digits && a.exponent === b.exponent;
}

/** `text` is an optional minus sign and at least one digit, nothing else. */
function isDecimalInteger(text: string): boolean {
  let i = text.charCodeAt(0) === MINUS ? 1 : 0;
  if (i === text.length) return false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}

/**
 * A DynamoDB number as a JS number when that is exact, else its exact decimal string.
 * Never rounds silently and never produces a BigInt.
 */
export function exactNumber(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  // Fastest path (ids, versions, counts): a decimal integer that parsed to a safe integer was
  // parsed exactly, since every integer up to 2^53 - 1 is a double; no string is built to check.
  if (Number.isSafeInteger(n) && isDecimalInteger(text)) return n === 0 ? 0 : n;
  // Fast path (most other numbers): the shortest round-trip form is the input itself, so both denote
  // the same decimal without parsing either.
  if (String(n) === text) return n;
  // Shortest round-trip form of n must denote the same decimal as the input.
  const shortest = parseDecimal(String(n));
  const exact = parseDecimal(text);
  return shortest !== undefined && exact !== undefined && sameDecimal(shortest, exact) ? (Object.is(n, -0) ? 0 : n) : text;
}

/**
 * Where an attribute sits, as its parent's path and its own name or index. The path string is
 * built only for an error or a container's members: most attributes never need it, and planning
 * converts every attribute of every image.
 */
function pathOf(parent: string, name: string | number): string {
  if (typeof name === 'number') return `${parent}[${name}]`;
  // Map keys are usually schema (address.zip) but can be data (a map keyed by email). Error
  // paths reach logs, which must not hold item data: names that are not plain identifiers
  // are shown as <name>.
  return `${parent}.${IDENTIFIER.test(name) ? name : '<name>'}`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** An attribute name as messages show it: itself when it is a plain identifier, else `<name>` (see pathOf). */
export function describeAttributeName(name: string): string {
  return IDENTIFIER.test(name) ? JSON.stringify(name) : '<name>';
}

function checkNumber(value: unknown, parent: string, name: string | number): string {
  // Fast path (most numbers): without an exponent, 38 characters hold at most 38 significant
  // digits and a magnitude between 1E-37 and 1E+38, inside DynamoDB's limits.
  if (typeof value === 'string' && value.length <= 38 && SHORT_NUMBER.test(value)) return value;
  const d = typeof value === 'string' ? parseDecimal(value) : undefined;
  if (typeof value !== 'string' || d === undefined) {
    throw new AttributeError(pathOf(parent, name), 'N must be a decimal number string');
  }
  if (d.digits.length > 38) throw new AttributeError(pathOf(parent, name), `number has ${d.digits.length} significant digits; DynamoDB allows 38`);
  // 0.d × 10^e: DynamoDB's range is 1E-130 (e = -129) to under 1E+126 (e = 126).
  if (d.digits !== '' && (d.exponent > 126 || d.exponent < -129)) {
    throw new AttributeError(pathOf(parent, name), 'number is outside DynamoDB range (1E-130 to 9.9999999999999999999999999999999999999E+125)');
  }
  return value;
}

function toBase64(value: unknown, parent: string, name: string | number): string {
  if (typeof value === 'string') {
    if (!BASE64.test(value)) throw new AttributeError(pathOf(parent, name), 'B must be base64');
    return value;
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  throw new AttributeError(pathOf(parent, name), 'B must be a base64 string or Uint8Array');
}

function checkArray(value: unknown, path: string, type: string): unknown[] {
  if (!Array.isArray(value)) throw new AttributeError(path, `${type} must be an array`);
  return value;
}

// typeOf and convert return their second answers through these, read right after each call
// (before any further call): an array per answer per attribute was most of planning's garbage.
/** The payload of the AttributeValue typeOf just read. */
let typedValue: unknown;
/** Whether that AttributeValue had its type tag as its only key (no null padding). */
let typedClean = false;
/**
 * The normalized AttributeValue of the attribute convert just converted. It IS the input object
 * when the input was already normal (the common case: no null padding, binary as base64), so
 * planning allocates one tree per image, not two; nothing mutates either tree.
 */
let convertedNormal: AttributeValue;

/** The single type tag of an AttributeValue, tolerating null padding (`{ S: null, N: "1" }`). */
function typeOf(av: unknown, parent: string, name: string | number): string {
  if (typeof av !== 'object' || av === null || Array.isArray(av)) {
    throw new AttributeError(pathOf(parent, name), 'expected an AttributeValue object like {"S":"..."}');
  }
  let found: string | undefined;
  let foundValue: unknown;
  let keys = 0;
  // for-in with an own-property check: no entries array per attribute.
  for (const tag in av) {
    if (!Object.hasOwn(av, tag)) continue;
    keys++;
    const value: unknown = (av as Record<string, unknown>)[tag];
    if (value === null || value === undefined) continue;
    if (!TYPES.has(tag)) throw new AttributeError(pathOf(parent, name), `unknown AttributeValue type ${IDENTIFIER.test(tag) ? tag : '<name>'}`);
    if (found !== undefined) throw new AttributeError(pathOf(parent, name), `AttributeValue has two types (${found} and ${tag})`);
    found = tag;
    foundValue = value;
  }
  if (found === undefined) {
    // {"NULL": true} is the one legitimate value whose payload could be mistaken for padding.
    throw new AttributeError(pathOf(parent, name), 'AttributeValue has no type');
  }
  typedValue = foundValue;
  typedClean = keys === 1;
  return found;
}

/** Convert one attribute: returns its plain value and leaves its normalized form in `convertedNormal`. */
function convert(av: unknown, parent: string, name: string | number, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new AttributeError(parent, `nested more than ${MAX_DEPTH} levels deep; DynamoDB allows ${MAX_DEPTH}`);
  const tag = typeOf(av, parent, name);
  const value = typedValue;
  const clean = typedClean;
  const same = av as AttributeValue;
  switch (tag) {
    case 'S':
      if (typeof value !== 'string') throw new AttributeError(pathOf(parent, name), 'S must be a string');
      convertedNormal = clean ? same : { S: value };
      return value;
    case 'N': {
      const n = checkNumber(value, parent, name);
      convertedNormal = clean ? same : { N: n };
      return exactNumber(n);
    }
    case 'B': {
      const b = toBase64(value, parent, name);
      convertedNormal = clean && b === value ? same : { B: b };
      return b;
    }
    case 'BOOL':
      if (typeof value !== 'boolean') throw new AttributeError(pathOf(parent, name), 'BOOL must be true or false');
      convertedNormal = clean ? same : { BOOL: value };
      return value;
    case 'NULL':
      if (value !== true) throw new AttributeError(pathOf(parent, name), 'NULL must be true');
      convertedNormal = clean ? same : { NULL: true };
      return null;
    case 'SS': {
      const path = pathOf(parent, name);
      const items = checkArray(value, path, 'SS').map((s, i) => {
        if (typeof s !== 'string') throw new AttributeError(`${path}[${i}]`, 'SS members must be strings');
        return s;
      });
      convertedNormal = clean ? same : { SS: items };
      return items;
    }
    case 'NS': {
      const path = pathOf(parent, name);
      const items = checkArray(value, path, 'NS').map((s, i) => checkNumber(s, path, i));
      convertedNormal = clean ? same : { NS: items };
      return items.map(exactNumber);
    }
    case 'BS': {
      const path = pathOf(parent, name);
      const input = checkArray(value, path, 'BS');
      const items = input.map((b, i) => toBase64(b, path, i));
      convertedNormal = clean && items.every((b, i) => b === input[i]) ? same : { BS: items };
      return items;
    }
    case 'L': {
      const path = pathOf(parent, name);
      const members = checkArray(value, path, 'L');
      const plain: unknown[] = new Array<unknown>(members.length);
      const normalized: AttributeValue[] = new Array<AttributeValue>(members.length);
      let changed = !clean;
      for (let i = 0; i < members.length; i++) {
        const member = members[i];
        plain[i] = convert(member, path, i, depth + 1);
        normalized[i] = convertedNormal;
        if (convertedNormal !== member) changed = true;
      }
      convertedNormal = changed ? { L: normalized } : same;
      return plain;
    }
    default: {
      // 'M'
      const plain = convertMap(value, pathOf(parent, name), depth + 1);
      convertedNormal = clean && convertedMap === value ? same : { M: convertedMap };
      return plain;
    }
  }
}

/** The normalized map convertMap just built (the input itself when it was already normal). */
let convertedMap: AttributeMap;

/** Convert a map: returns the plain item and leaves the normalized map in `convertedMap`. */
function convertMap(map: unknown, path: string, depth: number): Item {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new AttributeError(path, 'expected a map of attribute name to AttributeValue');
  }
  const input = map as Record<string, unknown>;
  const plain: Item = {};
  // Built only once some attribute differs from its input (see convertedNormal).
  let normalized: AttributeMap | undefined;
  for (const name in input) {
    if (!Object.hasOwn(input, name)) continue;
    const original = input[name];
    defineAttribute(plain, name, convert(original, path, name, depth));
    if (normalized === undefined && convertedNormal !== original) {
      normalized = {};
      // Every earlier attribute was already normal: copy it as is.
      for (const earlier in input) {
        if (earlier === name) break;
        if (Object.hasOwn(input, earlier)) defineAttribute(normalized, earlier, input[earlier]);
      }
    }
    if (normalized !== undefined) defineAttribute(normalized, name, convertedNormal);
  }
  convertedMap = normalized ?? (input as AttributeMap);
  return plain;
}

/**
 * Add an attribute as an own property. Item writers choose attribute names, and plain
 * assignment of `"__proto__"` would set the object's prototype (or be ignored), dropping the
 * attribute from the cached value and letting it masquerade as inherited attributes.
 */
export function defineAttribute(target: object, name: string, value: unknown): void {
  // `__proto__` is the only accessor on Object.prototype, so every other name can be assigned:
  // plain assignment keeps the object in V8's fast mode, where defineProperty per attribute
  // made planning several times slower (see docs/performance.md).
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else (target as Record<string, unknown>)[name] = value;
}

/** A validated image: the plain item rules see, and the normalized raw image. */
export interface Image {
  readonly item: Item;
  readonly raw: AttributeMap;
}

/**
 * Validate and convert a stream image (`Keys`, `NewImage` or `OldImage`).
 *
 * @param field - the record field, used in error paths (e.g. `dynamodb.NewImage`).
 * @throws AttributeError naming the attribute path at fault.
 */
export function convertImage(image: unknown, field: string): Image {
  const item = convertMap(image, field, 0);
  return { item, raw: convertedMap };
}

/**
 * An image whose attributes are validated and converted when first read, each once: key and
 * `when` functions usually read one or two attributes, and converting the rest was most of the
 * cost of an `invalidate` record. Reading `item` or `raw` converts (and validates) the whole image.
 * What is validated, and when, is documented in `docs/codecs.md`.
 */
export class LazyImage implements Image {
  private readonly input: Record<string, unknown>;
  private readonly field: string;
  private whole: Image | undefined;
  /** Attributes converted one at a time: the plain value and the normalized AttributeValue. */
  private single: Map<string, { plain: unknown; normal: AttributeValue }> | undefined;
  /**
   * The first malformed attribute read. A rule function that catches the error still fails the
   * record: the planner checks this after every call.
   */
  failure: AttributeError | undefined;

  /** @throws AttributeError when `input` is not a map (naming `field`). */
  constructor(input: unknown, field: string, whole?: Image) {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new AttributeError(field, 'expected a map of attribute name to AttributeValue');
    }
    this.input = input as Record<string, unknown>;
    this.field = field;
    this.whole = whole;
  }

  /** A view of an image converted elsewhere (a custom decoder's), so rules read both kinds alike. */
  static of(image: Image): LazyImage {
    return image instanceof LazyImage ? image : new LazyImage(image.raw, '', image);
  }

  get item(): Item {
    return this.decoded().item;
  }

  get raw(): AttributeMap {
    return this.decoded().raw;
  }

  /** The whole image, validated and converted (once). */
  decoded(): Image {
    if (this.whole === undefined) {
      try {
        this.whole = convertImage(this.input, this.field);
      } catch (error) {
        if (error instanceof AttributeError) this.failure ??= error;
        throw error;
      }
    }
    return this.whole;
  }

  /** Whether the image has the attribute (nothing is converted). */
  has(name: string): boolean {
    return Object.hasOwn(this.input, name);
  }

  /** The attribute names, in the image's order. */
  names(): string[] {
    return Object.keys(this.input);
  }

  /** The plain value of an attribute the image has ({@link has}); converts that attribute alone. */
  read(name: string): unknown {
    if (this.whole !== undefined) return this.whole.item[name];
    return this.one(name).plain;
  }

  /** The normalized AttributeValue of an attribute, or undefined when the image lacks it. */
  attributeValue(name: string): AttributeValue | undefined {
    if (!this.has(name)) return undefined;
    if (this.whole !== undefined) return this.whole.raw[name];
    return this.one(name).normal;
  }

  private one(name: string): { plain: unknown; normal: AttributeValue } {
    // Allocated on first use: a change has three images and rules usually read one.
    this.single ??= new Map();
    let converted = this.single.get(name);
    if (converted === undefined) {
      try {
        converted = { plain: convert(this.input[name], this.field, name, 0), normal: convertedNormal };
      } catch (error) {
        if (error instanceof AttributeError) this.failure ??= error;
        throw error;
      }
      this.single.set(name, converted);
    }
    return converted;
  }
}

/** The normalized AttributeValue of one attribute, converting only that one when the image is lazy. */
export function attributeValue(image: Image, name: string): AttributeValue | undefined {
  return LazyImage.of(image).attributeValue(name);
}

/** Validate and convert all of an image now (a no-op for one converted already). */
export function decodeWhole(image: Image): void {
  if (image instanceof LazyImage) image.decoded();
}
