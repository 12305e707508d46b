/**
 * The consistency monitor as the stream's second reader: the `Monitor*` resources of
 * examples/cloudformation/stack.yaml (`EnableConsistencyMonitor=true`). See docs/monitor.md.
 *
 * @module
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { createCacheSyncFunction, type FunctionOptions, type HandlerCode } from './handler-code.js';
import { VPC_NETWORK_INTERFACE_ACTIONS } from './iam-actions.js';

/**
 * The consistency monitor (`ddb-cache-sync/monitor`): a second function on the same stream that
 * checks, `graceMs` after each write, that the cache holds nothing older. It reads the cache and
 * the table (`dynamodb:GetItem`), never writes.
 *
 * @example
 * ```ts
 * const monitor: MonitorOptions = { handler: { entry: 'src/monitor.ts' }, graceMs: 10_000, sampleRate: 0.1 };
 * ```
 */
export interface MonitorOptions {
  /** The monitor's code, bundled or packaged as the handler's (`examples/handler/monitor.ts` works as the entry). */
  readonly handler: HandlerCode;
  /** How long after a write its keys are checked (`MONITOR_GRACE_MS`), 0 to 30,000. Default 10,000. */
  readonly graceMs?: number;
  /** Share of records checked (`MONITOR_SAMPLE_RATE`), above 0 and at most 1. Default 1. */
  readonly sampleRate?: number;
  /**
   * `create` (default) adds a DynamoDB gateway endpoint on the route tables of the function's
   * subnets; `existing` when the VPC already has one there (two cannot share a route table) or a
   * NAT route.
   */
  readonly dynamoDbEndpoint?: 'create' | 'existing';
  /**
   * ID of the managed prefix list `com.amazonaws.REGION.dynamodb`: HTTPS egress goes to it only.
   * Without it (CloudFormation cannot resolve the ID), the monitor's own security group allows
   * HTTPS to any IPv4 address; the handler's group is unaffected.
   */
  readonly dynamoDbPrefixListId?: string;
  /** Default: the handler's `function` settings, with a 60-second timeout (a batch waits up to `graceMs`). */
  readonly function?: FunctionOptions;
}

/** What the monitor needs from the `CacheSync` around it. */
export interface MonitorContext {
  readonly table: dynamodb.ITable;
  readonly streamArn: string;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection | undefined;
  readonly cacheSecurityGroup: ec2.ISecurityGroup;
  readonly cachePort: ec2.Port;
  readonly cacheSecret: secretsmanager.ISecret | undefined;
  readonly environment: Readonly<Record<string, string>>;
  readonly functionOptions: FunctionOptions;
  readonly logRetention: logs.RetentionDays;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxRecordAge: Duration;
  readonly filters: ReadonlyArray<Record<string, unknown>> | undefined;
  /** Where the monitor's metrics land: the library metrics' namespace and extra dimensions. */
  readonly namespace: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** The adapter's `name`: the monitor's `Monitor` dimension. */
  readonly adapterName: string;
}

/** The monitor's alarms. */
export interface MonitorAlarms {
  /** The cache held a value older than a write, `graceMs` after it. */
  readonly staleKeys: cloudwatch.Alarm;
  /** The monitor keeps failing to read the cache or the table, so it checks nothing. */
  readonly uncheckedKeys: cloudwatch.Alarm;
}

function checkRange(path: string, option: string, value: number, ok: (n: number) => boolean, expected: string): number {
  if (!Token.isUnresolved(value) && !ok(value)) throw new Error(`CacheSync ${path}: ${option} must be ${expected}, got ${value}`);
  return value;
}

/**
 * The monitor's function, role, security group, log group, stream mapping, DynamoDB gateway
 * endpoint and alarms. Created by `CacheSync` when its `monitor` prop is set.
 *
 * @example
 * ```ts
 * const sync = new CacheSync(this, 'CacheSync', { table, vpc, cache, handler, monitor: { handler: { entry: 'src/monitor.ts' } } });
 * sync.monitor?.function.addEnvironment('LOG_LEVEL', 'debug');
 * ```
 */
export class ConsistencyMonitor extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  readonly eventSourceMapping: lambda.EventSourceMapping;
  readonly logGroup: logs.LogGroup;
  /** The created DynamoDB gateway endpoint; undefined with `dynamoDbEndpoint: 'existing'`. */
  readonly dynamoDbEndpoint: ec2.GatewayVpcEndpoint | undefined;
  readonly alarms: MonitorAlarms;

  constructor(scope: Construct, id: string, options: MonitorOptions, context: MonitorContext) {
    super(scope, id);
    const path = scope.node.path;
    const graceMs = checkRange(
      path,
      'monitor.graceMs',
      options.graceMs ?? 10_000,
      (n) => Number.isInteger(n) && n >= 0 && n <= 30_000,
      'an integer from 0 to 30000 (the function times out after 60 s)',
    );
    const sampleRate = checkRange(path, 'monitor.sampleRate', options.sampleRate ?? 1, (n) => n > 0 && n <= 1, 'above 0 and at most 1 (1 checks every record)');
    const fnOptions = { ...context.functionOptions, ...options.function };

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: context.vpc,
      description: 'ddb-cache-sync consistency monitor (egress to the cache and HTTPS only)',
      allowAllOutbound: false,
    });
    this.securityGroup.connections.allowTo(context.cacheSecurityGroup, context.cachePort, 'ddb-cache-sync monitor to the cache');
    // A gateway endpoint routes DynamoDB's public addresses, so the egress must allow them:
    // the prefix list when its ID is known, else any address (it also covers Secrets Manager).
    if (options.dynamoDbPrefixListId === undefined) {
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs (DynamoDB GetItem, Secrets Manager)');
    } else {
      this.securityGroup.addEgressRule(ec2.Peer.prefixList(options.dynamoDbPrefixListId), ec2.Port.tcp(443), 'HTTPS to DynamoDB (GetItem)');
      if (context.cacheSecret !== undefined) {
        this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs (Secrets Manager)');
      } else {
        // The prefix-list and cache rules are separate resources; without an inline rule the
        // group would get EC2's default allow-all (see the handler's group in cache-sync.ts).
        this.securityGroup.addEgressRule(ec2.Peer.ipv4('127.0.0.1/32'), ec2.Port.allTraffic(), 'no outbound traffic');
      }
    }

    this.dynamoDbEndpoint =
      (options.dynamoDbEndpoint ?? 'create') === 'create'
        ? new ec2.GatewayVpcEndpoint(this, 'DynamoDbEndpoint', {
            vpc: context.vpc,
            service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
            subnets: [context.vpcSubnets ?? {}],
          })
        : undefined;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: context.logRetention, removalPolicy: RemovalPolicy.RETAIN });

    this.role = new iam.Role(this, 'Role', {
      description: 'ddb-cache-sync consistency monitor (reads the stream, the table and the cache)',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'VpcNetworkInterfaces', actions: [...VPC_NETWORK_INTERFACE_ACTIONS], resources: ['*'] }));
    this.logGroup.grantWrite(this.role);
    context.table.grantStreamRead(this.role);
    // The monitor's truth: a strongly consistent GetItem (ConsistentRead needs nothing more),
    // on this table only; not grantReadData, which adds Query, Scan and BatchGetItem.
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadItemsOfThisTable', actions: ['dynamodb:GetItem'], resources: [context.table.tableArn] }));
    context.cacheSecret?.grantRead(this.role);

    this.function = createCacheSyncFunction(this, options.handler, fnOptions.runtime ?? lambda.Runtime.NODEJS_24_X, {
      description: 'ddb-cache-sync consistency monitor - checks the cache against the table after each write',
      architecture: fnOptions.architecture ?? lambda.Architecture.ARM_64,
      memorySize: fnOptions.memorySize ?? 256,
      timeout: options.function?.timeout ?? Duration.seconds(60),
      role: this.role,
      vpc: context.vpc,
      vpcSubnets: context.vpcSubnets,
      securityGroups: [this.securityGroup],
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.TEXT,
      environment: {
        ...fnOptions.environment,
        ...context.environment,
        MONITOR_GRACE_MS: Token.isUnresolved(graceMs) ? Token.asString(graceMs) : String(graceMs),
        MONITOR_SAMPLE_RATE: Token.isUnresolved(sampleRate) ? Token.asString(sampleRate) : String(sampleRate),
      },
    });

    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'StreamMapping', {
      target: this.function,
      eventSourceArn: context.streamArn,
      // The monitor judges writes from now on; it has nothing to catch up on.
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: context.batchSize,
      maxBatchingWindow: context.maxBatchingWindow,
      // Only a failed setup (cold start) fails a batch; a few retries never hold the shard
      // back for long, and the monitor answers no failures, so no failure destination.
      reportBatchItemFailures: true,
      retryAttempts: 2,
      maxRecordAge: context.maxRecordAge,
      // The handler's records: a record the handler never sees has nothing to check.
      ...(context.filters === undefined ? {} : { filters: context.filters.map((pattern) => ({ pattern: JSON.stringify(pattern) })) }),
    });
    this.eventSourceMapping.node.addDependency(this.role);

    const metric = (metricName: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: context.namespace,
        metricName,
        // The monitor emits one dimension set: Monitor plus the extra dimensions, exactly.
        dimensionsMap: { Monitor: context.adapterName, ...context.dimensions },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(1),
      });
    const alarms = new Construct(this, 'Alarms');
    const common = {
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.alarms = {
      staleKeys: metric('StaleKeys').createAlarm(alarms, 'StaleKeys', {
        alarmDescription:
          "The cache held a value older than a write, graceMs after it. Compare the handler's StreamLagMs with the grace: above it the handler is slow, below it the cache is wrong; see docs/monitor.md.",
        evaluationPeriods: 1,
        ...common,
      }),
      uncheckedKeys: metric('UncheckedKeys').createAlarm(alarms, 'UncheckedKeys', {
        alarmDescription:
          'The monitor keeps failing to read the cache or the table (3 of the last 5 minutes), so it checks nothing. Check its route to DynamoDB and to the cache; see docs/monitor.md.',
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        ...common,
      }),
    };
  }
}
