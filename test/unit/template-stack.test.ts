import { describe, expect, it } from 'vitest';
import { TEMPLATES } from '../../scripts/example-code-params.mjs';
import { EXAMPLES } from '../../scripts/package-example.mjs';
import { VPC_NETWORK_INTERFACE_ACTIONS } from '../../src/cdk/iam-actions.js';
import { checkTemplate } from '../helpers/cfn-check.js';
import {
  allStrings,
  EXAMPLE_STACKS,
  getAtt,
  isRecord,
  loadExampleTemplate,
  ofType,
  only,
  parameter,
  readRepoFile as read,
  ref,
  resource,
  roleStatements,
  section,
  simulatePackage,
  type Json,
} from '../helpers/cfn-template.js';
import type { Template } from '../helpers/cfn-yaml.js';

/** The cache's port range per adapter, as the cache group's ingress rules state it: [FromPort, ToPort]. */
const CACHE_PORTS = { redis: [6379, 6380], memcached: [11211, 11211] } as const;

const STACKS = EXAMPLE_STACKS.map((stack) => ({ ...stack, cachePorts: CACHE_PORTS[stack.adapter] }));

/**
 * Actions that may be granted on Resource "*", and why:
 * - the EC2 network-interface actions: Lambda manages the function's VPC ENIs with the
 *   execution role and AWS documents them with "*" (AWSLambdaVPCAccessExecutionRole);
 * - dynamodb:ListStreams: the Service Authorization Reference lists no resource type for it.
 */
const STAR_RESOURCE_ALLOWED = new Set([...VPC_NETWORK_INTERFACE_ACTIONS, 'dynamodb:ListStreams']);

/** A value is a reference to a finite, bounded parameter: returns the parameter. */
function boundedParameter(template: Template, value: Json): Record<string, Json> {
  const name = ref(value);
  expect(name, `expected a parameter reference, got ${JSON.stringify(value)}`).toBeTypeOf('string');
  return parameter(template, name ?? '');
}

describe.each(STACKS)('$file', ({ file, handler, cachePorts }) => {
  const template = loadExampleTemplate(file);

  it('passes the CloudFormation schema check once packaged', () => {
    expect(checkTemplate(simulatePackage(template))).toEqual([]);
  });

  it('is plain CloudFormation: no transform', () => {
    expect(template['Transform']).toBeUndefined();
  });

  it('takes Code from the S3 bucket and key parameters that the code-params script prints for its handler zip', () => {
    const fn = resource(template, 'Function');
    const built = EXAMPLES.find((example) => example.entry === handler);
    expect(built).toBeDefined();
    expect(TEMPLATES[built?.zip ?? '']).toBe(file);
    expect(fn.properties['Code']).toEqual({ S3Bucket: { Ref: 'CodeS3Bucket' }, S3Key: { Ref: 'CodeS3Key' } });
    for (const name of ['CodeS3Bucket', 'CodeS3Key']) expect(parameter(template, name)['Default'], `${name} has no default`).toBeUndefined();
  });

  it('creates the table on demand, with a NEW_AND_OLD_IMAGES stream, PITR, encryption and optional TTL', () => {
    const table = only(template, 'AWS::DynamoDB::Table');
    expect(table.properties['BillingMode']).toBe('PAY_PER_REQUEST');
    expect(table.properties['StreamSpecification']).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(table.properties['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.properties['SSESpecification']).toEqual({ SSEEnabled: true });
    expect(table.raw['DeletionPolicy']).toBe('Retain');
    const ttl = table.properties['TimeToLiveSpecification'];
    expect(isRecord(ttl) && Array.isArray(ttl['Fn::If']) ? ttl['Fn::If'][0] : undefined).toBe('HasTtl');
    expect(parameter(template, 'TtlAttributeName')['Default']).toBe('');
  });

  it('maps the stream with batch item failures, bisection, finite retries and age, and an on-failure queue', () => {
    const mapping = resource(template, 'StreamMapping');
    const p = mapping.properties;
    expect(getAtt(p['EventSourceArn'])).toEqual(['Table', 'StreamArn']);
    expect(p['FunctionResponseTypes']).toEqual(['ReportBatchItemFailures']);
    expect(p['BisectBatchOnFunctionError']).toBe(true);
    expect(p['StartingPosition']).toBe('TRIM_HORIZON');
    const parallelization = boundedParameter(template, p['ParallelizationFactor']);
    expect(parallelization).toMatchObject({ Default: 1, MinValue: 1, MaxValue: 10 });

    // -1 means "forever" for both settings; the parameters must not allow it.
    const retries = boundedParameter(template, p['MaximumRetryAttempts']);
    expect(retries['MinValue']).toBeGreaterThanOrEqual(0);
    expect(retries['MaxValue']).toBeLessThanOrEqual(10_000);
    expect(retries['Default']).toBe(10);
    const age = boundedParameter(template, p['MaximumRecordAgeInSeconds']);
    expect(age['MinValue']).toBeGreaterThanOrEqual(60);
    expect(age['MaxValue']).toBeLessThanOrEqual(604_800);
    // The stream keeps records 24 hours: a larger maximum age never applies.
    expect(age['MaxValue']).toBeLessThanOrEqual(86_400);
    // Well inside the stream's 24-hour retention, so operators can still read failed records.
    expect(Number(age['Default'])).toBeLessThanOrEqual(6 * 3600);

    for (const name of ['BatchSize', 'MaximumBatchingWindowInSeconds'] as const) {
      const tuned = boundedParameter(template, p[name]);
      expect(String(tuned['Description']).length, `${name} explains its trade-off`).toBeGreaterThan(80);
    }

    const destination = isRecord(p['DestinationConfig']) ? p['DestinationConfig']['OnFailure'] : undefined;
    const target = getAtt(isRecord(destination) ? destination['Destination'] : undefined);
    expect(target?.[1]).toBe('Arn');
    const queue = resource(template, target?.[0] ?? '');
    expect(queue.type).toBe('AWS::SQS::Queue');
    expect(queue.properties['SqsManagedSseEnabled'] === true || queue.properties['KmsMasterKeyId'] !== undefined).toBe(true);

    const filter = p['FilterCriteria'];
    expect(isRecord(filter) && Array.isArray(filter['Fn::If']) ? filter['Fn::If'][0] : undefined).toBe('HasFilter');
  });

  it('grants no "*" action, and Resource "*" only where AWS supports nothing narrower', () => {
    const statements = roleStatements(template);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.effect).toBe('Allow');
      for (const action of statement.actions) {
        expect(typeof action === 'string' && !action.includes('*'), `action ${String(action)} in ${statement.sid}`).toBe(true);
      }
      if (statement.resources.includes('*')) {
        for (const action of statement.actions) {
          expect(STAR_RESOURCE_ALLOWED.has(String(action)), `${String(action)} on "*" (${statement.sid})`).toBe(true);
        }
      }
    }
    for (const role of ofType(template, 'AWS::IAM::Role')) {
      expect(role.properties['ManagedPolicyArns'], 'managed policies grant more than needed').toBeUndefined();
    }
  });

  it("scopes each permission to this stack's own resources", () => {
    // The handler's role; the monitor's is specified in template-monitor.test.ts.
    const byAction = new Map<string, Json[]>();
    for (const statement of roleStatements(template).filter((s) => s.role === 'FunctionRole')) {
      for (const action of statement.actions) byAction.set(String(action), statement.resources);
    }
    for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']) {
      expect(byAction.get(action)?.map(getAtt), action).toEqual([['Table', 'StreamArn']]);
    }
    expect(byAction.get('sqs:SendMessage')?.map(getAtt)).toEqual([['FailureQueue', 'Arn']]);
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
      expect(allStrings(byAction.get(action)).join(' '), action).toContain('log-group:${FunctionLogGroup}:*');
    }
    expect(byAction.has('logs:CreateLogGroup'), 'the stack creates the log group; the function must not').toBe(false);
    const secretReaders = byAction.get('secretsmanager:GetSecretValue');
    if (secretReaders !== undefined) expect(secretReaders.map(ref)).toEqual(['CacheSecret']);
  });

  it("lets only the function (and, if given, the readers' group) reach the cache, only on the cache ports", () => {
    const cacheGroup = resource(template, 'CacheSecurityGroup');
    expect(cacheGroup.properties['SecurityGroupIngress'], 'no inline ingress').toBeUndefined();
    const ingress = ofType(template, 'AWS::EC2::SecurityGroupIngress').filter((rule) => getAtt(rule.properties['GroupId'])?.[0] === 'CacheSecurityGroup');
    const sources = ingress.map((rule) => {
      expect(rule.properties['CidrIp']).toBeUndefined();
      expect(rule.properties['CidrIpv6']).toBeUndefined();
      expect(rule.properties['SourcePrefixListId']).toBeUndefined();
      expect(rule.properties['IpProtocol']).toBe('tcp');
      expect([rule.properties['FromPort'], rule.properties['ToPort']]).toEqual(cachePorts);
      const source = rule.properties['SourceSecurityGroupId'];
      return [getAtt(source)?.join('.') ?? `Ref ${ref(source) ?? '?'}`, rule.condition];
    });
    // The function always; the application's group only when the operator names one.
    expect(sources).toEqual([
      ['FunctionSecurityGroup.GroupId', undefined],
      ['Ref ReaderSecurityGroupId', 'HasReaders'],
    ]);
    expect(parameter(template, 'ReaderSecurityGroupId')['Default']).toBe('');
    // Nothing else opens the cache group either.
    for (const other of ofType(template, 'AWS::EC2::SecurityGroupIngress')) {
      if (!ingress.some((rule) => rule.name === other.name)) expect(getAtt(other.properties['GroupId'])?.[0]).not.toBe('CacheSecurityGroup');
    }
  });

  it('has no plaintext secret: no secret-like parameter defaults, passwords only as Secrets Manager references', () => {
    for (const [name, definition] of Object.entries(section(template, 'Parameters'))) {
      if (!isRecord(definition)) continue;
      // A parameter with AllowedValues is a switch, not a secret (e.g. CreateSecretsManagerEndpoint).
      const secretLike =
        (/password|secret|token|auth/i.test(name) && definition['AllowedValues'] === undefined) ||
        definition['NoEcho'] === true ||
        definition['NoEcho'] === 'true';
      if (secretLike) expect(definition['Default'] ?? '', `parameter ${name}`).toBe('');
    }
    for (const user of ofType(template, 'AWS::ElastiCache::User')) {
      expect(user.properties['Passwords'], 'use AuthenticationMode.Passwords').toBeUndefined();
      expect(user.properties['NoPasswordRequired']).toBeUndefined();
      const mode = user.properties['AuthenticationMode'];
      const passwords = isRecord(mode) && Array.isArray(mode['Passwords']) ? mode['Passwords'] : [];
      expect(passwords.length).toBeGreaterThan(0);
      for (const password of allStrings(passwords)) expect(password).toMatch(/^\{\{resolve:secretsmanager:\$\{\w+\}:SecretString(:password)?\}\}$/);
    }
    for (const group of ofType(template, 'AWS::ElastiCache::ReplicationGroup')) {
      expect(group.properties['AuthToken'], 'RBAC user group instead of an AUTH token').toBeUndefined();
    }
    for (const secret of ofType(template, 'AWS::SecretsManager::Secret')) {
      expect(secret.properties['SecretString'], `${secret.name} is generated, never written`).toBeUndefined();
      expect(secret.properties['GenerateSecretString']).toBeDefined();
    }
  });

  it('logs to its own log group with a retention period', () => {
    const group = resource(template, 'FunctionLogGroup');
    expect(ref(group.properties['RetentionInDays'])).toBe('LogRetentionDays');
    expect(parameter(template, 'LogRetentionDays')['Default']).toBe(30);
    const fn = resource(template, 'Function');
    const logging = fn.properties['LoggingConfig'];
    expect(isRecord(logging) ? ref(logging['LogGroup']) : undefined).toBe(group.name);
  });

  it('runs the function on the newest Node.js runtime, in the VPC, from the function security group', () => {
    const fn = resource(template, 'Function');
    expect(ref(fn.properties['Runtime'])).toBe('NodeRuntime');
    expect(parameter(template, 'NodeRuntime')['Default']).toBe('nodejs24.x');
    expect(fn.properties['Handler']).toBe('index.handler');
    const vpc = fn.properties['VpcConfig'];
    expect(isRecord(vpc) && Array.isArray(vpc['SecurityGroupIds']) ? vpc['SecurityGroupIds'].map(getAtt) : undefined).toEqual([
      ['FunctionSecurityGroup', 'GroupId'],
    ]);
  });

  it('sets exactly the environment variables its handler reads', () => {
    const fn = resource(template, 'Function');
    const environment = fn.properties['Environment'];
    const variables = isRecord(environment) && isRecord(environment['Variables']) ? Object.keys(environment['Variables']) : [];
    const source = read(handler);
    const read_ = new Set(
      [...source.matchAll(/env\[['"]([A-Z_]+)['"]\]|required\(env, ['"]([A-Z_]+)['"]\)|flag\(env, ['"]([A-Z_]+)['"]/g)].map((m) => m[1] ?? m[2] ?? m[3]),
    );
    expect(variables.length).toBeGreaterThan(0);
    for (const variable of variables) expect(read_.has(variable), `${variable} is read by ${handler}`).toBe(true);
  });

  it('alarms on stream lag, function errors and failure-queue messages, with an optional action', () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map((alarm) => alarm.properties);
    const find = (namespace: string, metric: string) => alarms.find((a) => a['Namespace'] === namespace && a['MetricName'] === metric);
    const lag = find('AWS/Lambda', 'IteratorAge');
    const errors = find('AWS/Lambda', 'Errors');
    const queue = find('AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    for (const alarm of [lag, errors, queue]) {
      expect(alarm).toBeDefined();
      // The schema database does not mark these required; CloudWatch does.
      expect(alarm?.['ComparisonOperator']).toBe('GreaterThanThreshold');
      expect(alarm?.['EvaluationPeriods']).toBeGreaterThan(0);
      const actions = alarm?.['AlarmActions'];
      expect(isRecord(actions) && Array.isArray(actions['Fn::If']) ? actions['Fn::If'][0] : undefined).toBe('HasAlarmTopic');
    }
    expect(queue?.['Threshold']).toBe(0);
    const dimension = Array.isArray(queue?.['Dimensions']) ? queue['Dimensions'][0] : undefined;
    expect(getAtt(isRecord(dimension) ? dimension['Value'] : undefined)).toEqual(['FailureQueue', 'QueueName']);
  });

  it('outputs the table, stream, cache endpoint, function and failure queue', () => {
    const outputs = Object.keys(section(template, 'Outputs'));
    expect(outputs).toEqual(expect.arrayContaining(['TableName', 'StreamArn', 'CacheEndpoint', 'FunctionName', 'FailureQueueUrl']));
  });
});

describe('examples/cloudformation/stack.yaml (Valkey/Redis)', () => {
  const template = loadExampleTemplate('examples/cloudformation/stack.yaml');

  it('defaults to ElastiCache Serverless Valkey, with a replication group as the alternative', () => {
    expect(parameter(template, 'CacheMode')['Default']).toBe('serverless');
    expect(parameter(template, 'CacheEngine')).toMatchObject({ Default: 'valkey', AllowedValues: ['valkey', 'redis'] });
    expect(resource(template, 'ServerlessCache').condition).toBe('UseServerless');
    expect(resource(template, 'ReplicationGroup').condition).toBe('UseNodeBased');
  });

  it('requires TLS and RBAC authentication in both cache modes', () => {
    const serverless = resource(template, 'ServerlessCache').properties;
    expect(ref(serverless['UserGroupId'])).toBe('CacheUserGroup');
    const group = resource(template, 'ReplicationGroup').properties;
    expect(group['TransitEncryptionEnabled']).toBe(true);
    expect(group['TransitEncryptionMode']).toBe('required');
    expect(group['AtRestEncryptionEnabled']).toBe(true);
    expect((group['UserGroupIds'] as Json[]).map(ref)).toEqual(['CacheUserGroup']);
  });

  it("switches off ElastiCache's mandatory default user", () => {
    const users = ofType(template, 'AWS::ElastiCache::User');
    const fallback = users.find((user) => user.properties['UserName'] === 'default');
    expect(fallback?.properties['AccessString']).toMatch(/^off\b/);
    const writer = users.find((user) => user.properties['UserName'] !== 'default');
    expect(ref(writer?.properties['AccessString'])).toBe('CacheAccessString');
    expect(String(parameter(template, 'CacheAccessString')['Default'])).toMatch(/^on ~\* .*-@dangerous/);
  });

  it('hands the function the secret ARN, never the password', () => {
    const fn = resource(template, 'Function');
    const environment = fn.properties['Environment'];
    const variables = isRecord(environment) && isRecord(environment['Variables']) ? environment['Variables'] : {};
    expect(ref(variables['CACHE_SECRET_ARN'])).toBe('CacheSecret');
    expect(allStrings(variables).some((text) => text.includes('resolve:secretsmanager'))).toBe(false);
  });
});

describe('examples/cloudformation/stack-memcached.yaml', () => {
  const template = loadExampleTemplate('examples/cloudformation/stack-memcached.yaml');

  it('encrypts in transit, and states that Memcached has no authentication', () => {
    const cluster = only(template, 'AWS::ElastiCache::CacheCluster');
    expect(cluster.properties['Engine']).toBe('memcached');
    expect(cluster.properties['TransitEncryptionEnabled']).toBe(true);
    const fn = resource(template, 'Function');
    const environment = fn.properties['Environment'];
    expect(isRecord(environment) && isRecord(environment['Variables']) ? environment['Variables']['MEMCACHED_TLS'] : undefined).toBe('true');
    expect(String(template['Description'])).toMatch(/over TLS[\s\S]*NO authentication/);
  });

  it('gives the function no network path but Memcached on the cache group (with the monitor on, HTTPS to DynamoDB too)', () => {
    const egress = ofType(template, 'AWS::EC2::SecurityGroupEgress');
    expect(
      egress.map((rule) => [
        getAtt(rule.properties['DestinationSecurityGroupId'])?.[0] ?? ref(rule.properties['DestinationPrefixListId']),
        rule.properties['FromPort'],
        rule.condition,
      ]),
    ).toEqual([
      ['CacheSecurityGroup', 11211, undefined],
      ['DynamoDbPrefixListId', 443, 'MonitorOn'],
    ]);
    expect(roleStatements(template).some((statement) => statement.actions.some((action) => String(action).startsWith('secretsmanager:')))).toBe(false);
  });
});
