/**
 * What a security and operations review asks of the example stacks (issue 16): filters that
 * keep deletes, names ElastiCache accepts, record ages the stream can serve, pinned engines,
 * alarms on the handler's own metrics, least-privilege network paths and optional KMS keys.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOMBSTONE_TTL_SECONDS } from '../../src/core/plan.js';
import { emfDocument } from '../../src/lambda/metrics.js';
import {
  allStrings,
  EXAMPLE_STACKS as STACKS,
  getAtt,
  isRecord,
  loadExampleTemplate,
  ofType,
  only,
  parameter,
  readRepoFile,
  ref,
  resource,
  type Json,
} from '../helpers/cfn-template.js';
import type { Template } from '../helpers/cfn-yaml.js';

const STREAM_RETENTION_SECONDS = 86_400;

/** The `Fn::If` condition name of a conditional value, if it is one. */
function ifCondition(value: Json): string | undefined {
  return isRecord(value) && Array.isArray(value['Fn::If']) && typeof value['Fn::If'][0] === 'string' ? value['Fn::If'][0] : undefined;
}

/**
 * Lambda event filtering, for the pattern forms the templates suggest: a list of accepted
 * values (strings, or `{ prefix }`) at a leaf, nested objects otherwise. A field the pattern
 * names but the record lacks does not match, as in Lambda.
 */
function filterMatches(pattern: Json, event: Json): boolean {
  if (!isRecord(pattern)) return false;
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = isRecord(event) ? event[field] : undefined;
    if (actual === undefined) return false;
    if (Array.isArray(expected)) {
      return expected.some((accepted) =>
        typeof accepted === 'string'
          ? actual === accepted
          : isRecord(accepted) && typeof accepted['prefix'] === 'string' && typeof actual === 'string' && actual.startsWith(accepted['prefix']),
      );
    }
    return filterMatches(expected, actual);
  });
}

/** The first JSON object in a parameter description. */
function exampleFilter(description: string): Json {
  const start = description.indexOf('{');
  let depth = 0;
  for (let i = start; i < description.length; i++) {
    if (description[i] === '{') depth++;
    if (description[i] === '}' && --depth === 0) return JSON.parse(description.slice(start, i + 1)) as Json;
  }
  throw new Error(`no JSON object in ${description}`);
}

const userRecord = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE') => {
  const image = {
    pk: { S: 'USER#1' },
    type: { S: 'User' },
    email: { S: 'a@example.com' },
  };
  return {
    eventName,
    dynamodb: {
      Keys: { pk: { S: 'USER#1' } },
      ...(eventName === 'REMOVE' ? {} : { NewImage: image }),
      ...(eventName === 'INSERT' ? {} : { OldImage: image }),
    },
  };
};

/**
 * ElastiCache identifiers (ServerlessCacheName, ReplicationGroupId, UserId, UserGroupId):
 * 1 to 40 letters, digits or hyphens, a letter first, no hyphen last, no two hyphens in a row;
 * stored lowercase, so the template only uses lowercase. The user name of an RBAC user follows
 * the same rules here because the template derives it from the same prefix.
 */
function elastiCacheIdentifierOk(name: string): boolean {
  return /^[a-z][a-z0-9-]{0,39}$/.test(name) && !name.includes('--') && !name.endsWith('-');
}

/** Every string of up to `length` characters over `alphabet`. */
function* strings(alphabet: readonly string[], length: number): Generator<string> {
  if (length === 0) {
    yield '';
    return;
  }
  for (const shorter of strings(alphabet, length - 1)) {
    yield shorter;
    if (shorter.length === length - 1) for (const c of alphabet) yield shorter + c;
  }
}

/** Whether CloudFormation accepts `value` for a String parameter (AllowedPattern must match all of it). */
function parameterAccepts(definition: Record<string, Json>, value: string): boolean {
  const pattern = definition['AllowedPattern'];
  const min = Number(definition['MinLength'] ?? 0);
  const max = Number(definition['MaxLength'] ?? Number.POSITIVE_INFINITY);
  return value.length >= min && value.length <= max && (typeof pattern !== 'string' || new RegExp(`^(?:${pattern})$`).test(value));
}

describe.each(STACKS)('$file', ({ file, handler, adapter }) => {
  const template: Template = loadExampleTemplate(file);

  it('suggests an event filter that keeps REMOVE records, and says why', () => {
    const description = String(parameter(template, 'EventFilterPattern')['Description']);
    const suggested = exampleFilter(description);
    for (const eventName of ['INSERT', 'MODIFY', 'REMOVE'] as const) {
      expect(filterMatches(suggested, userRecord(eventName)), `${eventName} passes the suggested filter`).toBe(true);
    }
    // The filter the templates used to suggest drops every delete: the matcher tells them apart.
    const onNewImage = { dynamodb: { NewImage: { type: { S: ['User'] } } } };
    expect(filterMatches(onNewImage, userRecord('MODIFY'))).toBe(true);
    expect(filterMatches(onNewImage, userRecord('REMOVE'))).toBe(false);
    expect(description).toMatch(/REMOVE record has no NewImage/);
  });

  it('caps the record age at the stream retention, below the default tombstone TTL', () => {
    const age = parameter(template, 'MaximumRecordAgeInSeconds');
    expect(age['MaxValue']).toBe(STREAM_RETENTION_SECONDS);
    expect(Number(age['Default'])).toBeLessThan(STREAM_RETENTION_SECONDS);
  });

  it('offers ParallelizationFactor (default 1, Lambda allows 1 to 10) and points to what it changes', () => {
    const mapping = resource(template, 'StreamMapping');
    expect(ref(mapping.properties['ParallelizationFactor'])).toBe('ParallelizationFactor');
    const factor = parameter(template, 'ParallelizationFactor');
    expect(factor).toMatchObject({
      Type: 'Number',
      Default: 1,
      MinValue: 1,
      MaxValue: 10,
    });
    expect(String(factor['Description'])).toContain('docs/strategies.md');
  });

  it('alarms on the handler metrics with exactly the dimensions the handler emits', () => {
    // The example handler adds no dimensions of its own: the metric carries only Adapter.
    const source = readRepoFile(handler);
    expect(source).toContain(`from 'ddb-cache-sync/${adapter}'`);
    expect(source).not.toMatch(/\bmetrics\s*:/);
    const emitted = emfDocument(
      {
        Records: 1,
        Commands: 0,
        SetCommands: 0,
        DeleteCommands: 0,
        CoalescedCommands: 0,
        FailedCommands: 1,
        InvalidRecords: 1,
        SkippedRecords: 0,
        RetriedRecords: 0,
        StreamLagMs: undefined,
      },
      adapter,
      {},
      0,
    );
    const directive = isRecord(emitted['_aws']) && Array.isArray(emitted['_aws']['CloudWatchMetrics']) ? emitted['_aws']['CloudWatchMetrics'][0] : undefined;
    const namespace = isRecord(directive) ? directive['Namespace'] : undefined;
    const dimensionNames = isRecord(directive) && Array.isArray(directive['Dimensions']) ? directive['Dimensions'][0] : undefined;
    expect(Array.isArray(dimensionNames)).toBe(true);
    const expected = (Array.isArray(dimensionNames) ? dimensionNames : []).map((name: Json) => ({ Name: name, Value: emitted[String(name)] }));

    const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map((alarm) => alarm.properties);
    const find = (metric: string) => alarms.find((a) => a['Namespace'] === namespace && a['MetricName'] === metric);
    const failed = find('FailedCommands');
    const invalid = find('InvalidRecords');
    for (const alarm of [failed, invalid]) expect(alarm?.['Dimensions']).toEqual(expected);

    // Transient failures are retried: alarm only when they persist (3 of 5 minutes).
    expect(failed).toMatchObject({
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // A poison record needs a person at once.
    expect(invalid).toMatchObject({
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });

  it('notifies when every alarm clears, not only when it fires', () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const alarm of alarms) {
      expect(ifCondition(alarm.properties['AlarmActions']), alarm.name).toBe('HasAlarmTopic');
      expect(alarm.properties['OKActions'], `${alarm.name} OKActions`).toEqual(alarm.properties['AlarmActions']);
    }
  });

  it('sets the lag alarm threshold above any batching window the template allows', () => {
    const windowMs = Number(parameter(template, 'MaximumBatchingWindowInSeconds')['MaxValue']) * 1000;
    const threshold = parameter(template, 'IteratorAgeAlarmMs');
    expect(Number(threshold['MinValue'])).toBeGreaterThanOrEqual(2 * windowMs);
    expect(Number(threshold['Default'])).toBeGreaterThanOrEqual(Number(threshold['MinValue']));
    const lag = ofType(template, 'AWS::CloudWatch::Alarm').find((alarm) => alarm.properties['MetricName'] === 'IteratorAge');
    expect(ref(lag?.properties['Threshold'])).toBe('IteratorAgeAlarmMs');
  });

  it('pins the engine version', () => {
    const pinned = ofType(template, 'AWS::ElastiCache::ServerlessCache')
      .map((cache) => ref(cache.properties['MajorEngineVersion']))
      .concat(ofType(template, 'AWS::ElastiCache::ReplicationGroup').map((group) => ref(group.properties['EngineVersion'])))
      .concat(ofType(template, 'AWS::ElastiCache::CacheCluster').map((cluster) => ref(cluster.properties['EngineVersion'])));
    expect(pinned.length).toBeGreaterThan(0);
    for (const name of pinned) {
      expect(name).toBeTypeOf('string');
      expect(String(parameter(template, name ?? '')['Default'])).toMatch(/^\d+(\.\d+)*$/);
    }
  });

  it('takes optional customer managed KMS keys, and keeps the default encryption when they are empty', () => {
    const keyParameters = Object.keys(isRecord(template['Parameters']) ? template['Parameters'] : {}).filter((name) => name.endsWith('KmsKeyArn'));
    expect(keyParameters).toEqual(expect.arrayContaining(['QueueKmsKeyArn', 'LogsKmsKeyArn']));
    for (const name of keyParameters) expect(parameter(template, name)['Default'], name).toBe('');
    const queue = only(template, 'AWS::SQS::Queue').properties;
    expect(queue['SqsManagedSseEnabled']).toEqual({
      'Fn::If': ['HasQueueKey', { Ref: 'AWS::NoValue' }, true],
    });
    expect(queue['KmsMasterKeyId']).toEqual({
      'Fn::If': ['HasQueueKey', { Ref: 'QueueKmsKeyArn' }, { Ref: 'AWS::NoValue' }],
    });
    expect(ifCondition(resource(template, 'FunctionLogGroup').properties['KmsKeyId'])).toBe('HasLogsKey');

    // The key permissions: only with a key, only the named key, only through the service that uses it.
    const keyPolicy = resource(template, 'FunctionKeyAccess');
    expect(keyPolicy.condition).toBeDefined();
    const document = keyPolicy.properties['PolicyDocument'];
    const statements = (isRecord(document) && Array.isArray(document['Statement']) ? document['Statement'] : []).map((statement: Json) =>
      isRecord(statement) && Array.isArray(statement['Fn::If']) ? statement['Fn::If'][1] : statement,
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(isRecord(statement)).toBe(true);
      if (!isRecord(statement)) continue;
      expect(keyParameters).toContain(ref(statement['Resource']));
      for (const action of allStrings(statement['Action'])) expect(action).toMatch(/^kms:(Decrypt|GenerateDataKey)$/);
      expect(allStrings(statement['Condition']).join(' ')).toMatch(/\.amazonaws\.com/);
    }
  });
});

describe('examples/cloudformation/stack.yaml (Valkey/Redis): names and network', () => {
  const template = loadExampleTemplate('examples/cloudformation/stack.yaml');
  const prefix = parameter(template, 'ResourcePrefix');

  /** Every ElastiCache name built from the prefix: resource.property -> its Fn::Sub text. */
  const named = [
    ['ServerlessCache', 'ServerlessCacheName'],
    ['ReplicationGroup', 'ReplicationGroupId'],
    ['DefaultCacheUser', 'UserId'],
    ['WriterCacheUser', 'UserId'],
    ['WriterCacheUser', 'UserName'],
    ['CacheUserGroup', 'UserGroupId'],
  ].map(([name, property]) => {
    const value = resource(template, name ?? '').properties[property ?? ''];
    const sub = isRecord(value) ? value['Fn::Sub'] : undefined;
    if (typeof sub !== 'string' || !sub.includes('${ResourcePrefix}')) throw new Error(`${name}.${property} is not built from ResourcePrefix`);
    return {
      at: `${name}.${property}`,
      build: (p: string) => sub.replace('${ResourcePrefix}', p),
    };
  });

  it('admits exactly the prefixes for which every derived ElastiCache name is valid', () => {
    const maxLength = Number(prefix['MaxLength']);
    const candidates = [...strings(['a', 'z', '0', '9', '-', 'A', '_'], 4), 'a'.repeat(maxLength), 'a'.repeat(maxLength + 1), `a-${'b'.repeat(maxLength - 2)}`];
    let admitted = 0;
    for (const candidate of candidates) {
      const valid = candidate.length > 0 && candidate.length <= maxLength && named.every(({ build }) => elastiCacheIdentifierOk(build(candidate)));
      expect(parameterAccepts(prefix, candidate), `prefix ${JSON.stringify(candidate)}`).toBe(valid);
      if (valid) admitted++;
    }
    expect(admitted).toBeGreaterThan(100);
    for (const bad of ['cache-', 'my--cache', '1cache', 'Cache', '']) expect(parameterAccepts(prefix, bad), bad).toBe(false);
    expect(parameterAccepts(prefix, String(prefix['Default']))).toBe(true);
  });

  it('opens HTTPS only to the endpoint when it creates one, and to any address only without it', () => {
    const functionGroup = resource(template, 'FunctionSecurityGroup').properties;
    expect(functionGroup['SecurityGroupEgress']).toEqual([
      {
        IpProtocol: '-1',
        CidrIp: '127.0.0.1/32',
        Description: 'no outbound traffic',
      },
    ]);
    const egress = ofType(template, 'AWS::EC2::SecurityGroupEgress').filter((rule) => getAtt(rule.properties['GroupId'])?.[0] === 'FunctionSecurityGroup');
    const summary = egress.map((rule) => [
      rule.condition,
      rule.properties['CidrIp'] ?? getAtt(rule.properties['DestinationSecurityGroupId'])?.[0] ?? ref(rule.properties['DestinationPrefixListId']),
      rule.properties['FromPort'],
    ]);
    expect(summary).toEqual(
      expect.arrayContaining([
        [undefined, 'CacheSecurityGroup', 6379],
        ['NoEndpoint', '0.0.0.0/0', 443],
        ['CreateEndpoint', 'EndpointSecurityGroup', 443],
        // The consistency monitor's GetItem, only with the monitor on.
        ['MonitorOn', 'DynamoDbPrefixListId', 443],
      ]),
    );
    expect(summary).toHaveLength(4);
    const conditions = isRecord(template['Conditions']) ? template['Conditions'] : {};
    expect(conditions['NoEndpoint']).toEqual({
      'Fn::Not': [{ Condition: 'CreateEndpoint' }],
    });
  });

  it("lets the endpoint serve only the function's role (and the monitor's, when on), only the cache secret", () => {
    const endpoint = resource(template, 'SecretsManagerEndpoint');
    expect(endpoint.condition).toBe('CreateEndpoint');
    const policy = endpoint.properties['PolicyDocument'];
    const statements = isRecord(policy) && Array.isArray(policy['Statement']) ? policy['Statement'] : [];
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(isRecord(statement) && statement['Action']).toBe('secretsmanager:GetSecretValue');
    expect(isRecord(statement) ? ref(statement['Resource']) : undefined).toBe('CacheSecret');
    expect(isRecord(statement) ? statement['Condition'] : undefined).toEqual({
      ArnEquals: {
        'aws:PrincipalArn': [
          { 'Fn::GetAtt': ['FunctionRole', 'Arn'] },
          {
            'Fn::If': ['MonitorOn', { 'Fn::GetAtt': ['MonitorRole', 'Arn'] }, { Ref: 'AWS::NoValue' }],
          },
        ],
      },
    });
    expect(String(parameter(template, 'SubnetIds')['Description'])).toMatch(/one per Availability Zone/);
  });

  it('starts the function only after the endpoint exists, when the stack creates one', () => {
    expect(resource(template, 'Function').raw['DependsOn']).toBe('EndpointReady');
    const handle = resource(template, 'EndpointReady');
    expect(handle.type).toBe('AWS::CloudFormation::WaitConditionHandle');
    const metadata = handle.raw['Metadata'];
    expect(isRecord(metadata) ? metadata['SecretsManagerEndpoint'] : undefined).toEqual({
      'Fn::If': ['CreateEndpoint', { Ref: 'SecretsManagerEndpoint' }, 'none'],
    });
  });

  it('encrypts the secrets and the cache with the customer managed keys when given', () => {
    for (const secret of ofType(template, 'AWS::SecretsManager::Secret')) expect(ifCondition(secret.properties['KmsKeyId']), secret.name).toBe('HasSecretKey');
    expect(ifCondition(resource(template, 'ServerlessCache').properties['KmsKeyId'])).toBe('HasCacheKey');
    expect(ifCondition(resource(template, 'ReplicationGroup').properties['KmsKeyId'])).toBe('HasCacheKey');
  });
});

describe('tombstone TTL and record age', () => {
  // Fails until the library's DEFAULT_TOMBSTONE_TTL_SECONDS becomes 90,000 (25 h) in
  // src/core/plan.ts (the lead's change for issue 16): a tombstone must outlive every retry of
  // the records it guards, and the templates allow records up to 86,400 s old.
  it('keeps the default tombstone TTL strictly longer than the largest record age the templates allow', () => {
    const ages = STACKS.map(({ file }) => Number(parameter(loadExampleTemplate(file), 'MaximumRecordAgeInSeconds')['MaxValue']));
    expect(DEFAULT_TOMBSTONE_TTL_SECONDS).toBeGreaterThan(Math.max(...ages));
  });
});
