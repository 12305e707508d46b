/**
 * The full ddb-cache-sync stack with the AWS CDK: a table with a stream and point-in-time
 * recovery, a VPC, an ElastiCache Serverless (Valkey) cache with an RBAC user, the function,
 * the stream mapping, the failure queue, the consistency monitor and the alarms. `app.ts`
 * synthesizes it.
 *
 * @module
 */
import { join } from 'node:path';
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { CacheSync } from 'ddb-cache-sync/cdk';

/** Props of {@link CacheSyncExampleStack}. */
export interface CacheSyncExampleStackProps extends StackProps {
  /** The handler's entry file. Default `examples/cdk/handler.ts` under the working directory. */
  readonly handlerEntry?: string;
  /** The consistency monitor's entry file. Default `examples/cdk/monitor.ts` under the working directory. */
  readonly monitorEntry?: string;
}

/**
 * The example stack.
 *
 * @example
 * ```ts
 * new CacheSyncExampleStack(new App(), 'DdbCacheSyncExample');
 * ```
 */
export class CacheSyncExampleStack extends Stack {
  readonly sync: CacheSync;

  constructor(scope: Construct, id: string, props: CacheSyncExampleStackProps = {}) {
    super(scope, id, props);

    const table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      // Both images: write-through needs the new one; the old one names the keys an item left.
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // The table is the source of truth: keep it when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Isolated subnets in two AZs: no NAT. The function reaches Secrets Manager through an
    // interface endpoint instead.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', {
      vpc,
      description: 'Secrets Manager endpoint (HTTPS from the ddb-cache-sync function only)',
      allowAllOutbound: false,
    });
    const secretsManager = vpc.addInterfaceEndpoint('SecretsManager', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      privateDnsEnabled: true,
      securityGroups: [endpointSecurityGroup],
      open: false,
    });

    this.sync = new CacheSync(this, 'CacheSync', {
      table,
      vpc,
      cache: { kind: 'new-serverless', engine: 'valkey', maxDataStorageGb: 10 },
      handler: { entry: props.handlerEntry ?? join(process.cwd(), 'examples', 'cdk', 'handler.ts') },
      // The stream's second reader, with a DynamoDB gateway endpoint on the isolated subnets.
      monitor: { handler: { entry: props.monitorEntry ?? join(process.cwd(), 'examples', 'cdk', 'monitor.ts') }, sampleRate: 0.1 },
    });

    secretsManager.connections.allowDefaultPortFrom(this.sync.functionSecurityGroup, 'HTTPS from the ddb-cache-sync function');
    if (this.sync.monitor !== undefined) {
      secretsManager.connections.allowDefaultPortFrom(this.sync.monitor.securityGroup, 'HTTPS from the ddb-cache-sync consistency monitor');
    }

    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'CacheEndpoint', { value: this.sync.cacheEndpoint });
    new CfnOutput(this, 'FunctionName', { value: this.sync.function.functionName });
    new CfnOutput(this, 'FailureQueueUrl', { value: this.sync.failureQueue.queueUrl });
  }
}
