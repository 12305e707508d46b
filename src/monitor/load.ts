/**
 * The monitor's source of truth: a strongly consistent GetItem. `@aws-sdk/client-dynamodb` is
 * an optional peer, imported on the first load only, so the package root never loads it.
 *
 * @module
 */
import type { AttributeMap } from '../core/rules.js';

/**
 * Read the table's current item: `table` is the record's table name, `keys` its `Keys`
 * (AttributeValue form). Answer the item in AttributeValue form, as GetItem returns it, or
 * `undefined` when the item no longer exists. Throw when the read fails: the key counts as
 * unchecked.
 */
export type LoadItem = (table: string, keys: AttributeMap) => Promise<AttributeMap | undefined>;

/** Options of {@link dynamodbLoader}: the parts of the SDK client config the monitor passes on. */
export interface DynamoDbLoaderOptions {
  /** Region. Default: the SDK's (the Lambda's own region). */
  readonly region?: string;
  /** Endpoint, e.g. DynamoDB Local's `http://127.0.0.1:8000`. Default: the SDK's. */
  readonly endpoint?: string;
  /** Credentials. Default: the SDK's chain (the Lambda's role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

interface GetItemClient {
  send(command: unknown): Promise<{ Item?: Record<string, unknown> }>;
}

/**
 * The default `load`: GetItem with `ConsistentRead: true` (an eventually consistent read could
 * answer an item older than the record and turn a correct cache into a false "stale"). Costs one
 * strongly consistent read (one RCU per 4 KB) per call.
 *
 * @example
 * ```ts
 * const monitor = createConsistencyMonitor({ ...config, load: dynamodbLoader({ endpoint: 'http://127.0.0.1:8000' }) });
 * ```
 */
export function dynamodbLoader(options: DynamoDbLoaderOptions = {}): LoadItem {
  let ready: Promise<{ client: GetItemClient; GetItemCommand: new (input: unknown) => unknown }> | undefined;
  const connect = async () => {
    const sdk = await import('@aws-sdk/client-dynamodb');
    const client = new sdk.DynamoDBClient({ ...options }) as unknown as GetItemClient;
    return { client, GetItemCommand: sdk.GetItemCommand as unknown as new (input: unknown) => unknown };
  };
  return async (table, keys) => {
    ready ??= connect().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    const { client, GetItemCommand } = await ready;
    const answer = await client.send(new GetItemCommand({ TableName: table, Key: keys, ConsistentRead: true }));
    return answer.Item as AttributeMap | undefined;
  };
}
