/**
 * `CacheSync`: the production stack of examples/cloudformation/stack.yaml as one construct.
 *
 * @module
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type AlarmOptions, type CacheSyncAlarms, createCacheSyncAlarms } from './alarms.js';
import { type CacheTarget, resolveCacheTarget } from './cache-target.js';
import { createCacheSyncFunction, type FunctionOptions, type HandlerCode } from './handler-code.js';
import { VPC_NETWORK_INTERFACE_ACTIONS } from './iam-actions.js';
import { ConsistencyMonitor, type MonitorAlarms, type MonitorOptions } from './monitor.js';

/** How the event source mapping reads the stream. */
export interface StreamOptions {
  /** Records per invocation. Default 100. */
  readonly batchSize?: number;
  /** Added staleness while Lambda gathers records. Default 1 second. */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failing batch before the failure queue; finite, 0 to 10,000. Default 10. */
  readonly retryAttempts?: number;
  /**
   * Older records go to the failure queue; 60 seconds to 24 hours (the stream's retention, so
   * operators can still read the records). Default 1 hour.
   */
  readonly maxRecordAge?: Duration;
  /**
   * Concurrent batches per shard, 1 to 10. Default 1: changes to one item then apply in stream
   * order; above 1 Lambda keeps order per partition key only.
   */
  readonly parallelizationFactor?: number;
  /** Lambda event filter patterns. Filter only on what no rule uses. Default none. */
  readonly filters?: ReadonlyArray<Record<string, unknown>>;
}

/**
 * Props of {@link CacheSync}.
 *
 * @example
 * ```ts
 * const props: CacheSyncProps = { table, vpc, cache: { kind: 'new-serverless' }, handler: { entry: 'src/sync.ts' } };
 * ```
 */
export interface CacheSyncProps {
  /** The source table. It must have a stream with `NEW_AND_OLD_IMAGES`. */
  readonly table: dynamodb.ITable;
  /** The VPC of the function (and of a created cache). */
  readonly vpc: ec2.IVpc;
  /** Subnets of the function and a created cache. Default: the VPC's private subnets. */
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly cache: CacheTarget;
  readonly handler: HandlerCode;
  readonly function?: FunctionOptions;
  readonly stream?: StreamOptions;
  readonly alarms?: AlarmOptions;
  /** Default one month. */
  readonly logRetention?: logs.RetentionDays;
  /** Added as alarm and OK action to every alarm. Default none. */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
  /** Deploy the consistency monitor as the stream's second reader. Default none. */
  readonly monitor?: MonitorOptions;
}

const DAY_SECONDS = 86_400;

function checkInteger(path: string, option: string, value: number, min: number, max: number): number {
  if (!Token.isUnresolved(value) && (!Number.isInteger(value) || value < min || value > max)) {
    throw new Error(`CacheSync ${path}: ${option} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function checkRecordAge(path: string, age: Duration): Duration {
  const seconds = age.toSeconds();
  if (seconds < 60 || seconds > DAY_SECONDS) {
    throw new Error(`CacheSync ${path}: stream.maxRecordAge must be from 60 seconds to 24 hours (the stream keeps records 24 hours), got ${seconds} seconds`);
  }
  return age;
}

/**
 * Keeps a Valkey/Redis or Memcached cache correct in front of a DynamoDB table: a function in
 * the VPC consumes the table's stream (ReportBatchItemFailures, bisect, finite retries and
 * record age, failure queue, TRIM_HORIZON), with least-privilege IAM (no table access beyond
 * the stream), security groups that admit only the function to the cache, a log group with
 * retention, and alarms you can add actions to.
 *
 * The function gets `TABLE_NAME` and, for Valkey/Redis, `CACHE_ENDPOINT`, `CACHE_CLUSTER`,
 * `CACHE_SECRET_ARN`; for Memcached, `MEMCACHED_CONFIG_ENDPOINT` and `MEMCACHED_TLS`: the
 * variables the example handlers in `examples/handler` read.
 *
 * @example
 * ```ts
 * import { CacheSync } from 'ddb-cache-sync/cdk';
 *
 * const sync = new CacheSync(this, 'CacheSync', {
 *   table,
 *   vpc,
 *   cache: { kind: 'new-serverless' },
 *   handler: { entry: 'src/cache-sync.ts' },
 * });
 * sync.addAlarmAction(new actions.SnsAction(opsTopic));
 * ```
 */
export class CacheSync extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly functionSecurityGroup: ec2.SecurityGroup;
  /** The cache's security group: created, or the existing one you passed. */
  readonly cacheSecurityGroup: ec2.ISecurityGroup;
  readonly failureQueue: sqs.Queue;
  readonly eventSourceMapping: lambda.EventSourceMapping;
  readonly logGroup: logs.LogGroup;
  readonly alarms: CacheSyncAlarms & Partial<MonitorAlarms>;
  /** The consistency monitor, when the `monitor` prop is set. */
  readonly monitor: ConsistencyMonitor | undefined;
  /** `host:port` the function connects to (for Memcached, the configuration endpoint). */
  readonly cacheEndpoint: string;
  /** Credentials of the cache user (Valkey/Redis), `{ username, password }` JSON. */
  readonly cacheSecret: secretsmanager.ISecret | undefined;
  readonly serverlessCache: elasticache.CfnServerlessCache | undefined;
  readonly replicationGroup: elasticache.CfnReplicationGroup | undefined;
  readonly cacheCluster: elasticache.CfnCacheCluster | undefined;

  constructor(scope: Construct, id: string, props: CacheSyncProps) {
    super(scope, id);
    const path = this.node.path;
    const streamArn = props.table.tableStreamArn;
    if (streamArn === undefined) {
      throw new Error(
        `CacheSync ${path}: props.table has no stream; create it with stream: StreamViewType.NEW_AND_OLD_IMAGES (or import it with tableStreamArn)`,
      );
    }
    const stream = props.stream ?? {};
    const fnOptions = props.function ?? {};
    const subnets = props.vpc.selectSubnets(props.vpcSubnets);

    const cache = resolveCacheTarget(this, props.cache, { vpc: props.vpc, subnetIds: subnets.subnetIds });
    this.cacheSecurityGroup = cache.securityGroup;
    this.cacheEndpoint = cache.endpoint;
    this.cacheSecret = cache.secret;
    this.serverlessCache = cache.serverlessCache;
    this.replicationGroup = cache.replicationGroup;
    this.cacheCluster = cache.cacheCluster;

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: props.vpc,
      description: `ddb-cache-sync function (egress to the cache${cache.secret === undefined ? '' : ' and HTTPS'} only)`,
      allowAllOutbound: false,
    });
    // Separate rule resources (CDK never inlines rules between two groups): function -> cache only.
    this.functionSecurityGroup.connections.allowTo(cache.securityGroup, cache.port, 'ddb-cache-sync function to the cache');
    if (cache.secret !== undefined) {
      // Secrets Manager at cold start, through a NAT gateway or an interface endpoint.
      this.functionSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs (Secrets Manager)');
    } else {
      // CDK drops its "no traffic" placeholder once any egress rule exists, even a separate
      // rule resource; a group with no inline egress gets EC2's default allow-all. Keep an
      // inline rule that matches nothing, as stack-memcached.yaml does.
      this.functionSecurityGroup.addEgressRule(ec2.Peer.ipv4('127.0.0.1/32'), ec2.Port.allTraffic(), 'no outbound traffic');
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      // 14 days, the maximum: the messages hold only shard and sequence-number ranges.
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
    });

    this.role = new iam.Role(this, 'Role', {
      description: 'ddb-cache-sync function (least privilege)',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    // Lambda manages the function's network interfaces with the execution role, on Resource "*".
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'VpcNetworkInterfaces',
        actions: [...VPC_NETWORK_INTERFACE_ACTIONS],
        resources: ['*'],
      }),
    );
    this.logGroup.grantWrite(this.role);
    // Stream read only (plus ListStreams, which has no resource-level permissions): no item reads or writes.
    props.table.grantStreamRead(this.role);
    cache.secret?.grantRead(this.role);

    this.function = createCacheSyncFunction(this, props.handler, fnOptions.runtime ?? lambda.Runtime.NODEJS_24_X, {
      description: 'ddb-cache-sync - applies DynamoDB stream records to the cache',
      architecture: fnOptions.architecture ?? lambda.Architecture.ARM_64,
      memorySize: fnOptions.memorySize ?? 256,
      timeout: fnOptions.timeout ?? Duration.seconds(30),
      role: this.role,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.functionSecurityGroup],
      logGroup: this.logGroup,
      // Text: the library writes its own JSON log lines and EMF metric lines to stdout.
      loggingFormat: lambda.LoggingFormat.TEXT,
      environment: { ...fnOptions.environment, TABLE_NAME: props.table.tableName, ...cache.environment },
    });

    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'StreamMapping', {
      target: this.function,
      eventSourceArn: streamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: checkInteger(path, 'stream.batchSize', stream.batchSize ?? 100, 1, 10_000),
      maxBatchingWindow: stream.maxBatchingWindow ?? Duration.seconds(1),
      // The handler reports the earliest failed record; Lambda retries from there.
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: checkInteger(path, 'stream.retryAttempts', stream.retryAttempts ?? 10, 0, 10_000),
      maxRecordAge: checkRecordAge(path, stream.maxRecordAge ?? Duration.hours(1)),
      parallelizationFactor: checkInteger(path, 'stream.parallelizationFactor', stream.parallelizationFactor ?? 1, 1, 10),
      onFailure: new SqsDlq(this.failureQueue),
      ...(stream.filters === undefined ? {} : { filters: stream.filters.map((pattern) => ({ pattern: JSON.stringify(pattern) })) }),
    });
    // The mapping checks the role's stream permissions when it is created: wait for the policy.
    this.eventSourceMapping.node.addDependency(this.role);

    const alarmOptions = props.alarms ?? {};
    const handlerAlarms = createCacheSyncAlarms(this, this.function, this.failureQueue, cache.protocol, alarmOptions);
    if (props.monitor === undefined) {
      this.monitor = undefined;
      this.alarms = handlerAlarms;
    } else {
      const library = alarmOptions.libraryMetrics ?? {};
      this.monitor = new ConsistencyMonitor(this, 'Monitor', props.monitor, {
        table: props.table,
        streamArn,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets,
        cacheSecurityGroup: cache.securityGroup,
        cachePort: cache.port,
        cacheSecret: cache.secret,
        environment: { TABLE_NAME: props.table.tableName, ...cache.environment },
        functionOptions: fnOptions,
        logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        batchSize: stream.batchSize ?? 100,
        maxBatchingWindow: stream.maxBatchingWindow ?? Duration.seconds(1),
        maxRecordAge: stream.maxRecordAge ?? Duration.hours(1),
        filters: stream.filters,
        namespace: library.namespace ?? 'DdbCacheSync',
        dimensions: library.dimensions ?? {},
        adapterName: library.adapterName ?? cache.protocol,
      });
      this.alarms = { ...handlerAlarms, ...this.monitor.alarms };
    }
    for (const action of props.alarmActions ?? []) this.addAlarmAction(action);
  }

  /** Every alarm, for dashboards or bulk changes. */
  get alarmList(): cloudwatch.Alarm[] {
    return Object.values(this.alarms).filter((alarm): alarm is cloudwatch.Alarm => alarm !== undefined);
  }

  /**
   * Notify `action` when any alarm fires and when it recovers.
   *
   * @example
   * ```ts
   * sync.addAlarmAction(new actions.SnsAction(opsTopic));
   * ```
   */
  addAlarmAction(action: cloudwatch.IAlarmAction): void {
    for (const alarm of this.alarmList) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}
