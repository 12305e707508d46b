/**
 * BatchGetItem through the read-through plugin: the covered keys come from the cache in one
 * multi-get, the rest from the table in one BatchGetItem, and the table's `UnprocessedKeys` go
 * back to the caller in the caller's own request shape. Misses are filled under leases taken
 * before the table read, as `getOrLoad` does for GetItem.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type {
  AttributeValue,
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  GetItemCommandInput,
  KeysAndAttributes,
  ServiceInputTypes,
  ServiceOutputTypes,
} from '@aws-sdk/client-dynamodb';
import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  DeserializeHandlerOutput,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
} from '@smithy/types';
import { supportsVersioned, type CacheAdapter, type VersionedCacheAdapter } from '../core/commands.js';
import type { CompiledRule } from '../core/compiled-rule.js';
import { canonicalVersion, decodeEnvelope, NOT_FOUND_PAYLOAD } from '../core/versioned.js';
import type { Logger } from '../lambda/logger.js';
import { decodeStoredItem, encodeSdkItem, projectItem, type SdkItem } from './attribute-json.js';
import { decideRead, tableName, type CoveredRead, type PassThroughReason } from './coverage.js';
import type { ReadMetrics } from './metrics.js';
import { collectBody, type WireItem, type WireResponse } from './wire.js';

type Args = InitializeHandlerArguments<ServiceInputTypes>;
type Out = InitializeHandlerOutput<ServiceOutputTypes>;
type Next = InitializeHandler<ServiceInputTypes, ServiceOutputTypes>;
type Key = Record<string, AttributeValue>;
/** A key or item as the SDK gives it (binary as bytes) or as the wire carries it (binary as base64). */
type KeyLike = Readonly<Record<string, { readonly S?: unknown; readonly N?: unknown; readonly B?: unknown }>>;
type WireArgs = DeserializeHandlerArguments<ServiceInputTypes>;
type WireOut = DeserializeHandlerOutput<ServiceOutputTypes>;
type WireNext = DeserializeHandler<ServiceInputTypes, ServiceOutputTypes>;

/** What the plugin hands the BatchGetItem path (its own state, shared with GetItem). */
export interface BatchGetContext {
  readonly adapter: CacheAdapter;
  /** The plugin's per-table rule lookup. */
  readonly rulesFor: (table: string | undefined) => { readonly servable: readonly CompiledRule[]; readonly any: boolean };
  /** The plugin's live counters (replaced at each flush, hence a getter). */
  readonly counters: () => ReadMetrics;
  readonly logger: Logger | undefined;
  readonly leaseTtlMs: number;
  readonly negativeTtlSeconds: number | undefined;
  /** The version a fill of `item` carries under `rule`. */
  readonly versionOf: (rule: CompiledRule, item: Readonly<Record<string, { readonly N?: unknown; readonly S?: unknown }>> | undefined) => string | undefined;
}

/** One requested key, where it sits in the request, and how the cache can answer it. */
interface Slot {
  readonly table: string;
  readonly key: Key;
  readonly read: CoveredRead | undefined;
  /** Why the key passes through, when it does. */
  readonly reason: PassThroughReason | undefined;
}

/** A covered key the cache did not answer, with the lease taken for it (if granted). */
interface Miss {
  readonly slot: Slot & { readonly read: CoveredRead };
  readonly token: string | undefined;
}

/** A number as DynamoDB compares it: `1.50`, `1.5` and `15e-1` are one key. */
function canonicalNumber(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (match === null) return text;
  const [, sign = '', int = '', frac = '', exp = '0'] = match;
  let digits = `${int}${frac}`.replace(/^0+/, '');
  let exponent = Number(exp) - frac.length;
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  return `${sign === '-' ? '-' : ''}${digits}e${exponent}`;
}

/** Identity of a key's values under `names`: matches a returned item to the key that asked for it. */
function signature(values: KeyLike, names: readonly string[]): string {
  return JSON.stringify(
    names.map((name) => {
      const av = Object.hasOwn(values, name) ? values[name] : undefined;
      if (typeof av?.S === 'string') return ['S', av.S];
      if (typeof av?.N === 'string') return ['N', canonicalNumber(av.N)];
      // A response body read at the wire level holds binary as base64 already.
      if (typeof av?.B === 'string') return ['B', av.B];
      if (av?.B instanceof Uint8Array) return ['B', Buffer.from(av.B).toString('base64')];
      return ['?'];
    }),
  );
}

const keyNames = (key: KeyLike): string[] => Object.keys(key).sort();

/** The caller's per-table request with only `keys` (projection and consistency unchanged). */
const withKeys = (request: KeysAndAttributes, keys: Key[]): KeysAndAttributes => ({ ...request, Keys: keys });

/** The same request asking for whole items: a fill stores what the rule caches, not a projection. */
function wholeItems(request: KeysAndAttributes, keys: Key[]): KeysAndAttributes {
  const { ProjectionExpression: _p, ExpressionAttributeNames: _n, AttributesToGet: _a, ...rest } = request;
  return { ...rest, Keys: keys };
}

/** Decide every key of the request, as GetItem would decide it alone. */
function planSlots(input: BatchGetItemCommandInput, context: BatchGetContext): Slot[] {
  const slots: Slot[] = [];
  for (const [table, request] of Object.entries(input.RequestItems ?? {})) {
    const { servable, any } = context.rulesFor(tableName(table));
    for (const key of request.Keys ?? []) {
      const asGet: GetItemCommandInput = {
        TableName: table,
        Key: key,
        ...(request.ConsistentRead === undefined ? {} : { ConsistentRead: request.ConsistentRead }),
        ...(request.ProjectionExpression === undefined ? {} : { ProjectionExpression: request.ProjectionExpression }),
        ...(request.ExpressionAttributeNames === undefined ? {} : { ExpressionAttributeNames: request.ExpressionAttributeNames }),
        ...(request.AttributesToGet === undefined ? {} : { AttributesToGet: request.AttributesToGet }),
      };
      const decision = decideRead(asGet, servable, any);
      slots.push(decision.kind === 'covered' ? { table, key, read: decision, reason: undefined } : { table, key, read: undefined, reason: decision.reason });
    }
  }
  return slots;
}

/** Read the covered keys in one multi-get (per-key gets, concurrently, for an adapter without one). */
function readMany(adapter: CacheAdapter, keys: readonly string[]): Promise<(string | undefined)[]> {
  if (typeof adapter.getMany === 'function') return adapter.getMany(keys);
  return Promise.all(keys.map((key) => adapter.get(key)));
}

/** What one stored string answers: an item, "not found", or nothing usable (a miss). */
function answerOf<T>(stored: string | undefined, negativeCaching: boolean, decode: (payload: string) => T): { item: T | undefined } | undefined {
  if (stored === undefined) return undefined;
  const entry = decodeEnvelope(stored);
  if (entry.kind === 'value' && entry.payload === NOT_FOUND_PAYLOAD) return negativeCaching ? { item: undefined } : undefined;
  if (entry.kind === 'value' || entry.kind === 'plain') return { item: decode(entry.payload) };
  return undefined; // a tombstone or a lease: the table answers
}

/** The stored form of a `dynamodb`-codec rule is the wire JSON DynamoDB sends (binary as base64). */
const parseWire = (payload: string): WireItem => JSON.parse(payload) as WireItem;

const coveredOf = (slots: readonly Slot[]) => slots.filter((slot): slot is Slot & { read: CoveredRead } => slot.read !== undefined);

function warn(context: BatchGetContext, operation: 'get' | 'lease' | 'fill', error: unknown): void {
  // The error's name only: adapter messages can quote keys, and keys can hold item data.
  context.logger?.warn('read-through: the cache failed; the read was served by the table', {
    operation,
    command: 'BatchGetItem',
    error: error instanceof Error ? error.name : typeof error,
  });
}

/** Take a lease for each miss, concurrently; a refused or failed lease reads the table without filling. */
async function leaseMisses(misses: readonly (Slot & { read: CoveredRead })[], adapter: VersionedCacheAdapter, context: BatchGetContext): Promise<Miss[]> {
  return Promise.all(
    misses.map(async (slot): Promise<Miss> => {
      const token = randomUUID();
      try {
        const outcome = await adapter.lease(slot.read.key, token, context.leaseTtlMs);
        return { slot, token: outcome.granted ? token : undefined };
      } catch (error) {
        context.counters().ReadFallbacks++;
        warn(context, 'lease', error);
        return { slot, token: undefined };
      }
    }),
  );
}

/**
 * Fill each leased miss from the table's answer: the item, else "not found" (only with
 * `negativeTtlSeconds`, and never for a key the table left unprocessed), else the lease back.
 */
async function fillLeases(
  leased: readonly Miss[],
  found: ReadonlyMap<string, SdkItem | WireItem>,
  unprocessed: ReadonlySet<string>,
  adapter: VersionedCacheAdapter,
  context: BatchGetContext,
): Promise<void> {
  const { negativeTtlSeconds } = context;
  await Promise.all(
    leased.map(async ({ slot, token }) => {
      if (token === undefined) return;
      const id = `${slot.table}\n${signature(slot.key, keyNames(slot.key))}`;
      const item = found.get(id);
      const rule = slot.read.rule.rule;
      try {
        if (item !== undefined) {
          const version = context.versionOf(slot.read.rule, item);
          const canonical = version === undefined ? undefined : canonicalVersion(version);
          // `encodeSdkItem` reads binary given as base64 too: a wire item encodes as the SDK's does.
          await adapter.fill(slot.read.key, token, encodeSdkItem(projectItem<unknown>(item, rule.attributes) as SdkItem), {
            ...(rule.ttlSeconds === undefined ? {} : { ttlSeconds: rule.ttlSeconds }),
            ...(canonical === undefined ? {} : { version: canonical }),
          });
        } else if (negativeTtlSeconds !== undefined && !unprocessed.has(id)) {
          await adapter.fill(slot.read.key, token, NOT_FOUND_PAYLOAD, { ttlSeconds: negativeTtlSeconds });
        } else {
          await adapter.fill(slot.read.key, token, undefined);
        }
      } catch (error) {
        warn(context, 'fill', error);
      }
    }),
  );
}

/** Give every granted lease back (the table read failed). */
async function giveBack(leased: readonly Miss[], adapter: VersionedCacheAdapter, context: BatchGetContext): Promise<void> {
  await Promise.all(
    leased.map(async ({ slot, token }) => {
      if (token === undefined) return;
      await adapter.fill(slot.read.key, token, undefined).catch((error: unknown) => warn(context, 'fill', error));
    }),
  );
}

/**
 * The BatchGetItem path of the plugin: `(args, next, defer) => output`. A request with no covered
 * key, or one asking for consumed capacity, passes through untouched; so does the whole request
 * when the multi-get fails (counted as fallbacks). A request whose keys are not AttributeValues
 * (a document client's native values) is handed to the wire level by `defer`, uncounted here.
 */
export function createBatchGet(context: BatchGetContext): (args: Args, next: Next, defer?: () => void) => Promise<Out> {
  const { adapter } = context;
  const leases = supportsVersioned(adapter) ? adapter : undefined;

  return async (args, next, defer) => {
    const input = args.input as BatchGetItemCommandInput;
    const counters = context.counters;
    const slots = planSlots(input, context);
    if (defer !== undefined && slots.some((slot) => slot.reason === 'key-form')) {
      defer();
      return next(args);
    }
    const covered = coveredOf(slots);
    const consumed = input.ReturnConsumedCapacity !== undefined && input.ReturnConsumedCapacity !== 'NONE';
    if (covered.length === 0 || consumed) {
      counters().ReadPassThroughs += slots.length;
      return next(args);
    }

    let answers: ({ item: SdkItem | undefined } | undefined)[];
    try {
      const stored = await readMany(
        adapter,
        covered.map((slot) => slot.read.key),
      );
      answers = stored.map((value) => answerOf(value, context.negativeTtlSeconds !== undefined, decodeStoredItem));
    } catch (error) {
      // Never worse than no cache: the caller's request goes to the table as it was.
      counters().ReadMisses += covered.length;
      counters().ReadFallbacks += covered.length;
      counters().ReadPassThroughs += slots.length - covered.length;
      warn(context, 'get', error);
      return next(args);
    }

    const hits = new Map<string, SdkItem[]>();
    const missed: (Slot & { read: CoveredRead })[] = [];
    for (const [i, slot] of covered.entries()) {
      const answer = answers[i];
      if (answer === undefined) {
        missed.push(slot);
        continue;
      }
      const items = hits.get(slot.table) ?? [];
      if (answer.item !== undefined) items.push(projectItem(answer.item, slot.read.names));
      hits.set(slot.table, items);
    }
    counters().ReadHits += covered.length - missed.length;
    counters().ReadMisses += missed.length;
    counters().ReadPassThroughs += slots.length - covered.length;

    const leased = leases === undefined ? missed.map((slot): Miss => ({ slot, token: undefined })) : await leaseMisses(missed, leases, context);
    const tableSlots: Slot[] = [...slots.filter((slot) => slot.read === undefined), ...missed];
    if (tableSlots.length === 0) {
      const output: BatchGetItemCommandOutput = { $metadata: {}, Responses: Object.fromEntries(hits), UnprocessedKeys: {} };
      return { output, response: undefined };
    }
    return fromTable(input, args, next, { slots: tableSlots, leased, hits, leases });
  };

  /** Send the keys the cache did not answer to the table, then merge, fill and restore the caller's shape. */
  async function fromTable(
    input: BatchGetItemCommandInput,
    args: Args,
    next: Next,
    state: { slots: readonly Slot[]; leased: readonly Miss[]; hits: ReadonlyMap<string, SdkItem[]>; leases: VersionedCacheAdapter | undefined },
  ): Promise<Out> {
    const original = input.RequestItems ?? {};
    // Tables with a leased miss ask for whole items (a fill stores the whole cached form); the
    // caller's top-level projection is then applied here, as on a hit.
    const filling = new Set(state.leased.filter((miss) => miss.token !== undefined).map((miss) => miss.slot.table));
    const names = new Map(state.leased.map((miss) => [miss.slot.table, miss.slot.read.names]));
    const requestItems: Record<string, KeysAndAttributes> = {};
    for (const [table, request] of Object.entries(original)) {
      const keys = state.slots.filter((slot) => slot.table === table).map((slot) => slot.key);
      if (keys.length > 0) requestItems[table] = filling.has(table) ? wholeItems(request, keys) : withKeys(request, keys);
    }

    let loaded: Out;
    try {
      loaded = await next({ ...args, input: { ...input, RequestItems: requestItems } });
    } catch (error) {
      if (state.leases !== undefined) await giveBack(state.leased, state.leases, context);
      throw error;
    }
    const output = loaded.output as BatchGetItemCommandOutput;

    const found = new Map<string, SdkItem>();
    const responses: Record<string, Record<string, AttributeValue>[]> = {};
    const namesOf = new Map(state.slots.map((slot) => [slot.table, keyNames(slot.key)]));
    for (const [table, items] of Object.entries(output.Responses ?? {})) {
      const keyAttrs = namesOf.get(table) ?? [];
      for (const item of items) found.set(`${table}\n${signature(item, keyAttrs)}`, item);
      responses[table] = filling.has(table) ? items.map((item) => projectItem(item, names.get(table))) : [...items];
    }
    for (const [table, items] of state.hits) responses[table] = [...(responses[table] ?? []), ...items];

    const unprocessed = new Set<string>();
    const unprocessedKeys: Record<string, KeysAndAttributes> = {};
    for (const [table, request] of Object.entries(output.UnprocessedKeys ?? {})) {
      const keys = request.Keys ?? [];
      for (const key of keys) unprocessed.add(`${table}\n${signature(key, keyNames(key))}`);
      // The caller retries with these: give them back in the caller's own shape (projection included).
      const asked = Object.hasOwn(original, table) ? original[table] : undefined;
      unprocessedKeys[table] = asked === undefined ? request : withKeys(asked, keys);
    }
    if (state.leases !== undefined) await fillLeases(state.leased, found, unprocessed, state.leases, context);
    return { ...loaded, output: { ...output, Responses: responses, UnprocessedKeys: unprocessedKeys } };
  }
}

/** The parts of a BatchGetItem response body the wire level reads. */
interface WireBatchBody {
  readonly Responses?: Record<string, WireItem[]>;
  readonly UnprocessedKeys?: Record<string, { readonly Keys?: WireItem[] }>;
}

/**
 * The BatchGetItem path below the deserializer, for `DynamoDBDocumentClient`'s `BatchGetCommand`
 * (see `wire.ts`). The request is signed already, so it cannot be split: it is answered from the
 * cache only when every key is covered and the multi-get answers all of them; otherwise the whole
 * request goes to the table unchanged. With misses, the misses of tables that ask for whole items
 * are leased before the table call and filled from its answer; a projected table's misses are
 * never filled (its request cannot be widened to the whole item).
 */
export function createWireBatchGet(context: BatchGetContext): (args: WireArgs, next: WireNext) => Promise<WireOut> {
  const { adapter } = context;
  const leases = supportsVersioned(adapter) ? adapter : undefined;

  return async (args, next) => {
    const input = args.input as BatchGetItemCommandInput;
    const counters = context.counters;
    const slots = planSlots(input, context);
    const covered = coveredOf(slots);
    const consumed = input.ReturnConsumedCapacity !== undefined && input.ReturnConsumedCapacity !== 'NONE';
    // One uncovered key means the table must be asked, and it can only be asked the whole request:
    // no cache call could save it anything.
    if (covered.length === 0 || covered.length < slots.length || consumed) {
      counters().ReadPassThroughs += slots.length;
      return next(args);
    }

    let answers: ({ item: WireItem | undefined } | undefined)[];
    try {
      const stored = await readMany(
        adapter,
        covered.map((slot) => slot.read.key),
      );
      answers = stored.map((value) => answerOf(value, context.negativeTtlSeconds !== undefined, parseWire));
    } catch (error) {
      counters().ReadMisses += covered.length;
      counters().ReadFallbacks += covered.length;
      warn(context, 'get', error);
      return next(args);
    }

    const missed = covered.filter((_, i) => answers[i] === undefined);
    if (missed.length === 0) {
      counters().ReadHits += covered.length;
      const responses: Record<string, WireItem[]> = {};
      for (const [i, slot] of covered.entries()) {
        const items = responses[slot.table] ?? [];
        const item = answers[i]?.item;
        if (item !== undefined) items.push(projectItem(item, slot.read.names));
        responses[slot.table] = items;
      }
      const body = new TextEncoder().encode(JSON.stringify({ Responses: responses, UnprocessedKeys: {} }));
      const response: WireResponse = { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body };
      return { response, output: undefined as unknown as ServiceOutputTypes };
    }

    // The table answers every key, hits included: each covered key counts as a miss.
    counters().ReadMisses += covered.length;
    const fillable = missed.filter((slot) => slot.read.names === undefined);
    const leased = leases === undefined ? [] : await leaseMisses(fillable, leases, context);
    let loaded: WireOut;
    let body: WireBatchBody;
    try {
      loaded = await next(args);
      const response = loaded.response as WireResponse;
      // Read once and put back as bytes, for the SDK's deserializer.
      response.body = await collectBody(response.body);
      if (response.statusCode !== 200) {
        if (leases !== undefined) await giveBack(leased, leases, context);
        return loaded;
      }
      body = JSON.parse(Buffer.from(response.body as Uint8Array).toString('utf8')) as WireBatchBody;
    } catch (error) {
      if (leases !== undefined) await giveBack(leased, leases, context);
      throw error;
    }

    const found = new Map<string, WireItem>();
    const namesOf = new Map(slots.map((slot) => [slot.table, keyNames(slot.key)]));
    for (const [table, items] of Object.entries(body.Responses ?? {})) {
      const keyAttrs = namesOf.get(table) ?? [];
      for (const item of items) found.set(`${table}\n${signature(item, keyAttrs)}`, item);
    }
    const unprocessed = new Set<string>();
    for (const [table, request] of Object.entries(body.UnprocessedKeys ?? {})) {
      for (const key of request.Keys ?? []) unprocessed.add(`${table}\n${signature(key, keyNames(key))}`);
    }
    if (leases !== undefined) await fillLeases(leased, found, unprocessed, leases, context);
    return loaded;
  };
}
