/**
 * The read-through path below the SDK's deserializer, for `DynamoDBDocumentClient`.
 *
 * lib-dynamodb marshalls `Key` just before the serializer and unmarshalls `Item` just around the
 * deserializer, both in the command's own stack, which a client plugin cannot get inside of. So a
 * document read is answered one level lower, as DynamoDB would answer it: an HTTP response whose
 * body is the GetItem JSON. The SDK's own deserializer then builds the output and lib-dynamodb
 * unmarshalls it with the caller's options (`wrapNumbers`, sets, binary), exactly as for a table
 * read. The stored form of a `dynamodb`-codec rule already is that JSON (binary as base64).
 *
 * The cost of this level: a hit still runs the SDK's serialize, build and finalize steps (request
 * signing, the retry middleware), which the low-level client's path skips.
 *
 * @module
 */
import type { GetItemCommandInput, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import type { DeserializeHandler, DeserializeHandlerArguments, DeserializeHandlerOutput, DeserializeMiddleware } from '@smithy/types';
import type { Codec } from '../core/rules.js';
import type { CacheReader, LoadOptions } from '../reader/index.js';
import { encodeSdkItem, projectItem, type SdkItem } from './attribute-json.js';
import type { CoveredRead, ReadDecision } from './coverage.js';
import type { ReadMetrics } from './metrics.js';

/** An item in DynamoDB's JSON wire form: `{ "pk": { "S": "u1" }, "b": { "B": "AAE=" } }`. */
export type WireItem = Record<string, Record<string, unknown>>;

/** The parts of an HTTP response the read path touches (a Smithy `HttpResponse`). */
export interface WireResponse {
  statusCode: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** Stored values of servable rules are wire JSON already: decode is a parse, encode validates. */
export const wireCodec: Codec = {
  name: 'dynamodb',
  // `convertImage` reads binary given as base64 as well as Uint8Array, so a wire item encodes to
  // exactly what the stream handler stores for the same item.
  encode: (value) => encodeSdkItem(value as SdkItem),
  decode: (stored) => JSON.parse(stored) as unknown,
};

/** Read a response body of any runtime's shape into bytes (once; the caller puts them back). */
export async function collectBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    }
    return Buffer.concat(chunks);
  }
  throw new TypeError('read-through: the GetItem response body is neither bytes nor a stream');
}

/** The GetItem answer DynamoDB would send for `item` (or for "not found"). */
export function wireResponse(item: WireItem | undefined, names: readonly string[] | undefined): WireResponse {
  const body = item === undefined ? '{}' : JSON.stringify({ Item: projectItem(item, names) });
  return { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: new TextEncoder().encode(body) };
}

/** The `Item` of a buffered GetItem response body. */
export function wireItemOf(bytes: Uint8Array): WireItem | undefined {
  const parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as { Item?: WireItem };
  return parsed.Item;
}

/** What the wire middleware needs from the plugin. */
export interface WireDeps {
  /** The plugin's reader with {@link wireCodec}. */
  readonly reader: CacheReader;
  /** Contexts whose request the initialize step could not read (a document client's native `Key`). */
  readonly deferred: WeakSet<object>;
  /** The decision for a marshalled GetItem input. */
  decide(input: GetItemCommandInput): ReadDecision;
  /** Options of a miss's fill for `read`, given the loaded item once known. */
  loadOptions(read: CoveredRead, loaded: () => WireItem | undefined): LoadOptions<WireItem>;
  count(metric: keyof ReadMetrics): void;
  /** A cache failure served by the table: counted and logged without keys or values. */
  fellBack(operation: 'get' | 'lease', error: unknown): void;
  readonly negativeTtlSeconds: number | undefined;
  /** A deferred BatchGetItem, served whole or passed through whole (see `createWireBatchGet`). */
  batchGet(args: Args, next: Handler): Promise<Out>;
}

type Handler = DeserializeHandler<ServiceInputTypes, ServiceOutputTypes>;
type Args = DeserializeHandlerArguments<ServiceInputTypes>;
type Out = DeserializeHandlerOutput<ServiceOutputTypes>;

const answer = (response: WireResponse): Out => ({ response, output: undefined as unknown as ServiceOutputTypes });

/**
 * The middleware that sits just below the deserializer (`after deserializerMiddleware`) and serves
 * the reads the initialize step deferred. It sees the marshalled request; it answers with the
 * bytes DynamoDB would send, so the response goes up through the deserializer and lib-dynamodb.
 */
export function createWireMiddleware(deps: WireDeps): DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> {
  return (next, context) => async (args) => {
    // Only the first attempt: a retried miss goes to the table (its lease was given back).
    if (!deps.deferred.delete(context)) return next(args);
    if (context.commandName === 'BatchGetItemCommand') return deps.batchGet(args, next);
    const input = args.input as GetItemCommandInput;
    const decision = deps.decide(input);
    if (decision.kind === 'pass') {
      deps.count('ReadPassThroughs');
      return next(args);
    }
    // The request is signed already: a projected read cannot be widened to load the whole item,
    // so it is answered from the cache when there, and otherwise by the table without a fill.
    return decision.names === undefined ? serveWhole(deps, decision, args, next) : serveProjected(deps, decision, args, next);
  };
}

async function serveProjected(deps: WireDeps, read: CoveredRead, args: Args, next: Handler): Promise<Out> {
  let stored: unknown;
  try {
    stored = await deps.reader.get(read.key);
  } catch (error) {
    deps.fellBack('get', error);
    stored = undefined;
  }
  if (stored === undefined) {
    deps.count('ReadMisses');
    return next(args);
  }
  deps.count('ReadHits');
  return answer(wireResponse(stored as WireItem, read.names));
}

async function serveWhole(deps: WireDeps, read: CoveredRead, args: Args, next: Handler): Promise<Out> {
  let loaded: Out | undefined;
  let tableFailed = false;
  let full: WireItem | undefined;
  let item: WireItem | undefined;
  try {
    item = await deps.reader.getOrLoad<WireItem>(
      read.key,
      async () => {
        try {
          loaded = await next(args);
          const response = loaded.response as WireResponse;
          response.body = await collectBody(response.body);
          if (response.statusCode !== 200) throw new TableAnswered();
          full = wireItemOf(response.body as Uint8Array);
        } catch (error) {
          tableFailed = !(error instanceof TableAnswered);
          throw error;
        }
        return full === undefined ? undefined : projectItem(full, read.rule.rule.attributes);
      },
      deps.loadOptions(read, () => full),
    );
  } catch (error) {
    if (tableFailed) throw error;
    deps.count('ReadMisses');
    // The table answered (an error status goes up to the deserializer, which raises the SDK's
    // error); the cache's part failed after it, e.g. a fill that could not encode.
    if (loaded !== undefined) return loaded;
    // A stored value that does not decode: the cache's fault, never the caller's.
    deps.fellBack('get', error);
    return next(args);
  }
  if (loaded !== undefined) {
    deps.count('ReadMisses');
    return loaded;
  }
  if (item === undefined && deps.negativeTtlSeconds === undefined) {
    deps.count('ReadMisses');
    return next(args);
  }
  deps.count('ReadHits');
  return answer(wireResponse(item, undefined));
}

/** The table answered with an error status: give the lease back and let the SDK raise it. */
class TableAnswered extends Error {
  override readonly name = 'TableAnswered';
}
