/**
 * Calling a rule's functions (`when`, `key`, `value`) on one side of a change, safely: a rule
 * that reads an attribute the stream view left out, throws, or returns the wrong type fails
 * the record with an error naming the rule field and attribute.
 *
 * @module
 */
import { AttributeError, defineAttribute, describeAttributeName, type Image, LazyImage } from './attributes.js';
import type { CompiledRule } from './compiled-rule.js';
import { fail, viewHint } from './failure.js';
import type { AttributeMap, Item, RuleContext } from './rules.js';

/** One side (old or new) of a change, as rules see it. */
export interface Side {
  /** Which side of the change this is, even when only `Keys` are known for it. */
  readonly which: 'new' | 'old';
  readonly image: Image;
  /** True when only `Keys` are known for this side (the stream view carries no such image). */
  readonly keysOnly: boolean;
  readonly context: RuleContext;
}

/** Thrown inside rule functions when they read an attribute that the stream view left out. */
class MissingFromViewError extends Error {
  constructor(readonly attribute: string) {
    super(attribute);
  }
}

/**
 * The proxy handler behind the item a rule function sees: attributes are converted on first
 * read (an `invalidate` rule keyed on the table key converts only the key), and reading one the
 * item lacks is noticed. On a keys-only side that is an error (the view type cannot supply it);
 * on a full image it is recorded so a key built from a missing attribute
 * ("user-by-email:undefined") can be refused. Anything beyond reading one attribute
 * (`Object.keys`, `in`, spreading, writing) first fills the target with every attribute, in the
 * image's order, so the view then behaves as the plain item does. A class, not a handler of
 * closures: one object per call instead of ten.
 */
class ItemView implements ProxyHandler<Item> {
  /** The first attribute read that the item lacks. */
  missing: string | undefined;
  /** Some attribute read holds the text "undefined", which then explains that text in a key. */
  undefinedInData = false;
  private readonly lazy: LazyImage | undefined;
  private readonly target: Item;
  private complete: boolean;

  constructor(
    image: Image,
    private readonly keysOnly: boolean,
  ) {
    // An image a custom decoder converted whole is watched as it is: nothing to convert lazily.
    this.lazy = image instanceof LazyImage ? image : undefined;
    this.target = this.lazy === undefined ? image.item : {};
    this.complete = this.lazy === undefined;
  }

  item(): Item {
    return new Proxy(this.target, this);
  }

  private fill(): Item {
    if (!this.complete && this.lazy !== undefined) {
      for (const name of this.lazy.names()) defineAttribute(this.target, name, this.lazy.read(name));
      this.complete = true;
    }
    return this.target;
  }

  get(target: Item, property: string | symbol, receiver: unknown): unknown {
    if (typeof property !== 'string') return Reflect.get(target, property, receiver) as unknown;
    const lazy = this.complete ? undefined : this.lazy;
    let value: unknown;
    if (lazy === undefined ? Object.hasOwn(target, property) : lazy.has(property)) {
      value = lazy === undefined ? target[property] : lazy.read(property);
    } else {
      if (this.keysOnly && property !== 'toJSON' && property !== 'then') throw new MissingFromViewError(property);
      this.missing ??= property;
      value = Reflect.get(target, property, receiver) as unknown;
    }
    if (typeof value === 'string' && value.includes('undefined')) this.undefinedInData = true;
    return value;
  }

  has(_: Item, property: string | symbol): boolean {
    return Reflect.has(this.fill(), property);
  }
  ownKeys(): (string | symbol)[] {
    return Reflect.ownKeys(this.fill());
  }
  getOwnPropertyDescriptor(_: Item, property: string | symbol): PropertyDescriptor | undefined {
    return Reflect.getOwnPropertyDescriptor(this.fill(), property);
  }
  defineProperty(_: Item, property: string | symbol, descriptor: PropertyDescriptor): boolean {
    return Reflect.defineProperty(this.fill(), property, descriptor);
  }
  deleteProperty(_: Item, property: string | symbol): boolean {
    return Reflect.deleteProperty(this.fill(), property);
  }
  set(_: Item, property: string | symbol, value: unknown): boolean {
    return Reflect.set(this.fill(), property, value);
  }
  preventExtensions(): boolean {
    return Reflect.preventExtensions(this.fill());
  }
}

/** The error's `field` for an attribute: its name when that is not item data (see describeAttributeName). */
function fieldName(attribute: string): string {
  const shown = describeAttributeName(attribute);
  return shown === '<name>' ? shown : attribute;
}

function callRule<T>(fn: () => T, ruleField: string, side: Side, view: string | undefined): T {
  let result: T;
  try {
    result = fn();
  } catch (error) {
    // A malformed attribute is the record's fault, not the rule's: the planner reports it by path.
    if (error instanceof AttributeError) throw error;
    if (error instanceof MissingFromViewError) {
      fail(`${ruleField} reads attribute ${describeAttributeName(error.attribute)}, but ${viewHint(view, side.which)}`, fieldName(error.attribute));
    }
    fail(`${ruleField} threw ${error instanceof Error ? error.name : 'a non-Error value'}`, ruleField, error);
  }
  // The function may have caught the error of a malformed attribute it read: the record still fails.
  const failure = side.image instanceof LazyImage ? side.image.failure : undefined;
  if (failure !== undefined) throw failure;
  return result;
}

/** Whether the rule's `when` accepts this side's item. */
export function ruleMatches(compiled: CompiledRule, side: Side, view: string | undefined): boolean {
  const { when } = compiled.rule;
  if (when === undefined) return true;
  const item = new ItemView(side.image, side.keysOnly).item();
  const result = callRule(() => when(item, side.context), 'when', side, view);
  if (typeof result !== 'boolean') fail(`when must return a boolean, got ${typeof result}`, 'when');
  return result;
}

/** The cache keys the rule's `key` gives for this side's item (none for a rule without `key`). */
export function ruleKeys(compiled: CompiledRule, side: Side, view: string | undefined): string[] {
  return ruleStrings(compiled, side, view, 'key');
}

/** The tags the rule's `tags` gives for this side's item (none for a rule without `tags`). */
export function ruleTags(compiled: CompiledRule, side: Side, view: string | undefined): string[] {
  return ruleStrings(compiled, side, view, 'tags');
}

function ruleStrings(compiled: CompiledRule, side: Side, view: string | undefined, field: 'key' | 'tags'): string[] {
  const fn = compiled.rule[field];
  if (fn === undefined) return [];
  const reads = new ItemView(side.image, side.keysOnly);
  const item = reads.item();
  const result = callRule(() => fn(item, side.context), field, side, view);
  const keys = typeof result === 'string' ? [result] : result;
  if (!Array.isArray(keys)) fail(`${field} must return a string or an array of strings, got ${typeof result}`, field);
  for (const key of keys) {
    if (typeof key !== 'string' || key.length === 0) fail(`${field} returned an empty or non-string ${field === 'key' ? 'key' : 'tag'}`, field);
    if (reads.missing !== undefined && !reads.undefinedInData && key.includes('undefined')) {
      const attribute = reads.missing;
      fail(
        `${field} was built from attribute ${describeAttributeName(attribute)}, which the item does not have (the ${field === 'key' ? 'key' : 'tag'} contains "undefined"); guard the rule with when() or give the attribute a default`,
        fieldName(attribute),
      );
    }
  }
  return keys;
}

function project(image: Image, attributes: readonly string[] | undefined): Image {
  if (attributes === undefined) return image;
  const item: Item = {};
  const raw: AttributeMap = {};
  for (const name of attributes) {
    const plain = image.item[name];
    const av = image.raw[name];
    if (Object.hasOwn(image.raw, name) && av !== undefined) {
      defineAttribute(item, name, plain);
      defineAttribute(raw, name, av);
    }
  }
  return { item, raw };
}

/** The string the rule caches for this side: projected, transformed, encoded. */
export function encodeValue(compiled: CompiledRule, side: Side): string {
  const { rule, codec } = compiled;
  const projected = project(side.image, rule.attributes);
  const transformed = rule.value !== undefined;
  const value = rule.value ? callRule(() => rule.value?.(projected.item, side.context), 'value', side, undefined) : projected.item;
  // An async value() would otherwise be cached as the JSON of a Promise: "{}".
  if (typeof (value as { then?: unknown } | null | undefined)?.then === 'function')
    fail('value returned a Promise; value functions must be synchronous', 'value');
  let encoded: unknown;
  try {
    encoded = codec.encode(value, { image: projected.raw, transformed });
  } catch (error) {
    fail(`codec ${codec.name} could not encode the value`, 'codec', error);
  }
  // JSON.stringify returns undefined for undefined, functions and symbols: never store that.
  if (typeof encoded !== 'string') {
    fail(
      `codec ${codec.name} produced ${typeof encoded}, not a string; value() must return something the codec can encode (not undefined, a function or a symbol)`,
      'codec',
    );
  }
  return encoded;
}
