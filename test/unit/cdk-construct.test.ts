/**
 * `CacheSync` as CloudFormation: each production setting of examples/cloudformation/stack.yaml,
 * asserted on templates synthesized with a prebuilt code asset (no bundling), one per cache kind.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CacheSync, type CacheSyncProps } from '../../src/cdk/index.js';
import { VPC_NETWORK_INTERFACE_ACTIONS } from '../../src/cdk/iam-actions.js';

type Extra = Partial<Omit<CacheSyncProps, 'table' | 'vpc'>>;

function stackWith(extra: Extra | ((stack: Stack) => Extra), withStream = true, app = new App()): { stack: Stack; sync: () => CacheSync } {
  const stack = new Stack(app, 'Test');
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    ...(withStream ? { stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES } : {}),
  });
  // An imported VPC keeps the templates (and the synth time) to the construct's own resources.
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    isolatedSubnetIds: ['subnet-1', 'subnet-2'],
    isolatedSubnetRouteTableIds: ['rtb-1', 'rtb-2'],
  });
  return {
    stack,
    sync: () =>
      new CacheSync(stack, 'Sync', {
        table,
        vpc,
        cache: { kind: 'new-serverless' },
        handler: { code: lambda.Code.fromInline('export const handler = async () => ({ batchItemFailures: [] });'), handler: 'index.handler' },
        ...(typeof extra === 'function' ? extra(stack) : extra),
      }),
  };
}

function synth(extra: Extra | ((stack: Stack) => Extra)): { template: Template; sync: CacheSync } {
  const app = new App();
  const { stack, sync } = stackWith(extra, true, app);
  const built = sync();
  return { template: Template.fromStack(stack), sync: built };
}

describe('CacheSync with a new serverless Valkey cache', () => {
  let template: Template;
  let sync: CacheSync;
  beforeAll(() => {
    ({ template, sync } = synth((stack) => ({ alarmActions: [new SnsAction(new sns.Topic(stack, 'Ops'))] })));
  });

  it('maps the stream with ReportBatchItemFailures, bisect, finite retries and age, TRIM_HORIZON, one batch per shard', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Table'), 'StreamArn'] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailureQueue'), 'Arn'] } } },
    });
  });

  it('keeps failed-batch metadata 14 days in an encrypted queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
  });

  it('writes logs to its own log group with retention, as text', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
      LoggingConfig: { LogFormat: 'Text', LogGroup: { Ref: Match.stringLikeRegexp('LogGroup') } },
      Environment: {
        Variables: {
          TABLE_NAME: { Ref: Match.stringLikeRegexp('^Table') },
          CACHE_ENDPOINT: Match.anyValue(),
          CACHE_CLUSTER: 'true',
          CACHE_SECRET_ARN: { Ref: Match.stringLikeRegexp('CacheSecret') },
        },
      },
    });
  });

  it('grants the stream, the secret, its logs, the queue and network interfaces, and nothing on the table', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const actions = policies.flatMap((policy) => JSON.stringify(policy).match(/"(dynamodb|sqs|secretsmanager|logs|ec2|kms):[A-Za-z*]+"/g) ?? []);
    expect(new Set(actions)).toEqual(
      new Set(
        [
          'dynamodb:ListStreams',
          'dynamodb:DescribeStream',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
          'secretsmanager:GetSecretValue',
          'secretsmanager:DescribeSecret',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'sqs:SendMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          ...VPC_NETWORK_INTERFACE_ACTIONS,
        ].map((action) => `"${action}"`),
      ),
    );
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(JSON.stringify(roles)).not.toContain('ManagedPolicyArns');
  });

  it('creates the mapping only after the role can read the stream', () => {
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mapping?.['DependsOn']).toEqual(expect.arrayContaining([expect.stringMatching(/RoleDefaultPolicy/)]));
  });

  it('lets only the function reach the cache, and the cache reach nothing', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 6379,
      ToPort: 6380,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('CacheSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('FunctionSecurityGroup'), 'GroupId'] },
    });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      FromPort: 6379,
      ToPort: 6380,
      DestinationSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('CacheSecurityGroup'), 'GroupId'] },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('cache \\(ingress from the function only\\)'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^ddb-cache-sync function'),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
    });
  });

  it('creates a serverless Valkey cache with a pinned major version, a usage limit and RBAC users', () => {
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      MajorEngineVersion: '8',
      CacheUsageLimits: { DataStorage: { Maximum: 10, Unit: 'GB' } },
      UserGroupId: { Ref: Match.stringLikeRegexp('CacheUserGroup') },
    });
    template.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'default', AccessString: 'off -@all' });
    const writers = template.findResources('AWS::ElastiCache::User', { Properties: { AccessString: 'on ~* +@all -@dangerous +info' } });
    // The password reaches ElastiCache as a dynamic reference, never as a value in the template.
    expect(JSON.stringify(Object.values(writers))).toMatch(/\{\{resolve:secretsmanager:".*:SecretString:password::\}\}/);
  });

  it('alarms on Lambda errors, iterator age, the failure queue and the library metrics, with alarm and OK actions', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    const alarm = (metric: string, namespace: string, extra: Record<string, unknown> = {}): void =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: namespace,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [Match.anyValue()],
        OKActions: [Match.anyValue()],
        ...extra,
      });
    alarm('Errors', 'AWS/Lambda', { Threshold: 0, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    alarm('IteratorAge', 'AWS/Lambda', { Threshold: 60_000, Statistic: 'Maximum' });
    alarm('ApproximateNumberOfMessagesVisible', 'AWS/SQS', { Threshold: 0, EvaluationPeriods: 1 });
    // Exactly the dimension set the handler emits (Adapter plus the handler's extra dimensions).
    alarm('FailedCommands', 'DdbCacheSync', { Dimensions: [{ Name: 'Adapter', Value: 'redis' }], Statistic: 'Sum' });
    alarm('InvalidRecords', 'DdbCacheSync', { Dimensions: [{ Name: 'Adapter', Value: 'redis' }], Statistic: 'Sum' });
    expect(sync.alarmList).toHaveLength(5);
  });
});

describe('CacheSync with other caches', () => {
  it('creates a Memcached cluster with TLS and a pinned version, reached on 11211 only, with no HTTPS egress', () => {
    const { template } = synth({ cache: { kind: 'new-memcached', nodeCount: 2 }, alarms: { libraryMetrics: { dimensions: { Service: 'users' } } } });
    template.hasResourceProperties('AWS::ElastiCache::CacheCluster', {
      Engine: 'memcached',
      EngineVersion: '1.6.22',
      TransitEncryptionEnabled: true,
      NumCacheNodes: 2,
      AZMode: 'cross-az',
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 11211, ToPort: 11211 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MEMCACHED_TLS: 'true', MEMCACHED_CONFIG_ENDPOINT: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^ddb-cache-sync function'),
      SecurityGroupEgress: [{ IpProtocol: '-1', CidrIp: '127.0.0.1/32', Description: 'no outbound traffic' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FailedCommands',
      Dimensions: [
        { Name: 'Adapter', Value: 'memcached' },
        { Name: 'Service', Value: 'users' },
      ],
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('secretsmanager');
  });

  it('creates a Multi-AZ replication group with TLS required, at-rest encryption and a pinned version', () => {
    const { template } = synth({ cache: { kind: 'new-replication-group', namePrefix: 'orders' } });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ReplicationGroupId: 'orders-cache',
      Engine: 'valkey',
      EngineVersion: '8.0',
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ CACHE_CLUSTER: 'false' }) } });
  });

  it('opens an existing cache group to the function and reads the existing secret', () => {
    const { stack, sync } = stackWith({});
    const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'ExistingGroup', 'sg-0123456789abcdef0');
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:writer-AbCdEf');
    const table = new dynamodb.Table(stack, 'Other', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    void sync;
    new CacheSync(stack, 'Existing', {
      table,
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Imported', { vpcId: 'vpc-1', availabilityZones: ['a', 'b'], isolatedSubnetIds: ['subnet-3', 'subnet-4'] }),
      cache: { kind: 'existing-serverless', endpoint: { address: 'c.serverless.cache.amazonaws.com', port: 6379 }, securityGroup, secret },
      handler: { code: lambda.Code.fromInline('export const handler = async () => ({});') },
      stream: { maxRecordAge: Duration.hours(24), parallelizationFactor: 2 },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-0123456789abcdef0', FromPort: 6379, ToPort: 6380 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CACHE_ENDPOINT: 'c.serverless.cache.amazonaws.com:6379', CACHE_SECRET_ARN: secret.secretArn }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumRecordAgeInSeconds: 86_400, ParallelizationFactor: 2 });
    template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 0);
  });
});

describe('CacheSync with the consistency monitor', () => {
  const monitorCode = { code: lambda.Code.fromInline('export const handler = async () => ({ batchItemFailures: [] });'), handler: 'index.handler' };
  let template: Template;
  let sync: CacheSync;
  beforeAll(() => {
    ({ template, sync } = synth((stack) => ({
      alarmActions: [new SnsAction(new sns.Topic(stack, 'Ops'))],
      monitor: { handler: monitorCode, graceMs: 5000, sampleRate: 0.25 },
    })));
  });

  const monitorFunctionId = (): string => {
    const [id] = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('consistency monitor') } }));
    if (id === undefined) throw new Error('no monitor function in the template');
    return id;
  };

  it('adds a second function with the grace and sample rate the example monitor reads, and the cache variables', () => {
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('consistency monitor'),
      Timeout: 60,
      Environment: {
        Variables: Match.objectLike({
          MONITOR_GRACE_MS: '5000',
          MONITOR_SAMPLE_RATE: '0.25',
          TABLE_NAME: Match.anyValue(),
          CACHE_ENDPOINT: Match.anyValue(),
          CACHE_SECRET_ARN: Match.anyValue(),
        }),
      },
      VpcConfig: Match.objectLike({ SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorSecurityGroup'), 'GroupId'] }] }),
    });
  });

  it('maps the same stream from LATEST with finite retries and no failure destination', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: monitorFunctionId() } } });
    const [mapping] = Object.values(mappings);
    expect(mapping?.['Properties']).toMatchObject({
      StartingPosition: 'LATEST',
      MaximumRetryAttempts: 2,
      EventSourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^Table/), 'StreamArn'] },
    });
    expect(mapping?.['Properties']).not.toHaveProperty('DestinationConfig');
  });

  it('grants the monitor GetItem on the table only, and nobody a table write', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => (policy['Properties'] as { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } }).PolicyDocument.Statement,
    );
    const itemReads = statements.filter((statement) =>
      [statement.Action].flat().some((action) => /^dynamodb:(GetItem|BatchGetItem|Query|Scan|\*)$/.test(action)),
    );
    expect(itemReads).toEqual([expect.objectContaining({ Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Table/), 'Arn'] } })]);
    const text = JSON.stringify(statements);
    for (const write of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) expect(text).not.toContain(`dynamodb:${write}`);
  });

  it("creates a DynamoDB gateway endpoint on the subnets' route tables and lets the monitor reach HTTPS and the cache", () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
      RouteTableIds: ['rtb-1', 'rtb-2'],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('consistency monitor'),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6379,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('CacheSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorSecurityGroup'), 'GroupId'] },
    });
  });

  it('alarms on StaleKeys and UncheckedKeys with exactly the dimension the monitor emits, with alarm and OK actions', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    const monitorAlarm = (metric: string, extra: Record<string, unknown>): void =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'DdbCacheSync',
        Dimensions: [{ Name: 'Monitor', Value: 'redis' }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [Match.anyValue()],
        OKActions: [Match.anyValue()],
        ...extra,
      });
    monitorAlarm('StaleKeys', { EvaluationPeriods: 1 });
    monitorAlarm('UncheckedKeys', { EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    expect(sync.alarmList).toHaveLength(7);
    expect(sync.alarms.staleKeys).toBe(sync.monitor?.alarms.staleKeys);
  });

  it("follows the handler's metric namespace and dimensions, and the prefix list when given", () => {
    const { template: custom } = synth({
      alarms: { libraryMetrics: { namespace: 'Shop', dimensions: { Service: 'users' }, adapterName: 'valkey' } },
      monitor: { handler: monitorCode, dynamoDbEndpoint: 'existing', dynamoDbPrefixListId: 'pl-0123' },
    });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StaleKeys',
      Namespace: 'Shop',
      Dimensions: [
        { Name: 'Monitor', Value: 'valkey' },
        { Name: 'Service', Value: 'users' },
      ],
    });
    custom.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    custom.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorSecurityGroup'), 'GroupId'] },
      DestinationPrefixListId: 'pl-0123',
      FromPort: 443,
      ToPort: 443,
    });
  });

  it('keeps a Memcached monitor with a prefix list off every other address', () => {
    const { template: memcached } = synth({
      cache: { kind: 'new-memcached', nodeCount: 2 },
      monitor: { handler: monitorCode, dynamoDbPrefixListId: 'pl-0123' },
    });
    memcached.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('consistency monitor'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '127.0.0.1/32', IpProtocol: '-1' })],
    });
    memcached.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'UncheckedKeys', Dimensions: [{ Name: 'Monitor', Value: 'memcached' }] });
  });

  it('adds none of it without the monitor prop', () => {
    const { template: plain, sync: plainSync } = synth({});
    plain.resourceCountIs('AWS::Lambda::Function', 1);
    plain.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    plain.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    plain.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    expect(JSON.stringify(plain.toJSON())).not.toMatch(/dynamodb:GetItem|StaleKeys|UncheckedKeys|MONITOR_/);
    expect(plainSync.monitor).toBeUndefined();
  });

  it('refuses a grace beyond 30 seconds and a sample rate outside (0, 1], naming the option', () => {
    expect(() => synth({ monitor: { handler: monitorCode, graceMs: 60_000 } })).toThrow(/monitor\.graceMs must be an integer from 0 to 30000/);
    expect(() => synth({ monitor: { handler: monitorCode, sampleRate: 0 } })).toThrow(/monitor\.sampleRate must be above 0/);
  });
});

describe('CacheSync props', () => {
  it('refuses a table without a stream, naming the prop', () => {
    const { sync } = stackWith({}, false);
    expect(sync).toThrow(/props\.table has no stream/);
  });

  it('refuses a record age beyond the stream retention of 24 hours', () => {
    const { sync } = stackWith({ stream: { maxRecordAge: Duration.hours(25) } });
    expect(sync).toThrow(/stream\.maxRecordAge must be from 60 seconds to 24 hours.*90000 seconds/);
  });

  it('refuses unbounded retries', () => {
    const { sync } = stackWith({ stream: { retryAttempts: -1 } });
    expect(sync).toThrow(/stream\.retryAttempts must be an integer from 0 to 10000, got -1/);
  });
});

describe('the cdk subpath boundary', () => {
  const src = join(import.meta.dirname, '..', '..', 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => ({ path: relative(src, join(src, name)).split('\\').join('/'), text: readFileSync(join(src, name), 'utf8') }));
  // Statements only: not the examples in TSDoc nor the banner string.
  const importsOf = (text: string): string[] => [...text.matchAll(/^(?:import|export)\s[^;'"]*?\bfrom\s+['"]([^'"]+)['"]/gm)].map((match) => match[1] ?? '');

  it('is the only place under src that imports aws-cdk-lib or constructs', () => {
    const outside = files.filter((file) => !file.path.startsWith('cdk/') && importsOf(file.text).some((path) => /^(aws-cdk-lib|constructs)(\/|$)/.test(path)));
    expect(outside.map((file) => file.path)).toEqual([]);
  });

  it('imports no adapter, client or other library module', () => {
    const cdk = files.filter((file) => file.path.startsWith('cdk/'));
    expect(cdk.length).toBeGreaterThan(0);
    const imports = cdk.flatMap((file) => importsOf(file.text));
    expect(imports).toContain('aws-cdk-lib/aws-lambda');
    expect(imports.filter((path) => !/^(aws-cdk-lib|constructs)(\/|$)/.test(path) && !/^\.\/[a-z-]+\.js$/.test(path))).toEqual([]);
  });
});
