/**
 * DynamoDB Local for integration tests: one in-memory server on a free loopback port, SDK
 * clients with dummy credentials, and a table factory. Stop it in afterAll.
 */
import { CreateTableCommand, DynamoDBClient, type AttributeDefinition, type KeySchemaElement, type StreamViewType } from '@aws-sdk/client-dynamodb';
import { localClientConfig, startDynamoDbLocal, type DynamoDbLocal } from '../../src/local/dynamodb-local.js';

export interface DynamoDbLocalHarness {
  readonly server: DynamoDbLocal;
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Create a table with a stream and return its stream ARN. */
  createTable(options: CreateTableOptions): Promise<string>;
  /** Destroy the client and stop the server. */
  stop(): Promise<void>;
}

export interface CreateTableOptions {
  readonly name: string;
  /** Default: `pk` string hash key. */
  readonly keySchema?: KeySchemaElement[];
  readonly attributeDefinitions?: AttributeDefinition[];
  /** Default NEW_AND_OLD_IMAGES. */
  readonly streamViewType?: StreamViewType;
}

export async function startDynamoDb(): Promise<DynamoDbLocalHarness> {
  const server = await startDynamoDbLocal();
  const client = new DynamoDBClient(localClientConfig(server.endpoint));
  return {
    server,
    endpoint: server.endpoint,
    client,
    async createTable(options) {
      const created = await client.send(
        new CreateTableCommand({
          TableName: options.name,
          KeySchema: options.keySchema ?? [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: options.attributeDefinitions ?? [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamEnabled: true, StreamViewType: options.streamViewType ?? 'NEW_AND_OLD_IMAGES' },
        }),
      );
      const arn = created.TableDescription?.LatestStreamArn;
      if (arn === undefined) throw new Error(`table ${options.name} was created without a stream`);
      return arn;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
