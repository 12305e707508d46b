/**
 * The consistency monitor in the example stacks (issue 15): everything it adds exists only with
 * EnableConsistencyMonitor=true, its alarm watches exactly the metric the monitor emits, and
 * its role reads the table item by item and writes nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEY_PARAMETERS, TEMPLATES } from '../../scripts/example-code-params.mjs';
import { EXAMPLES } from '../../scripts/package-example.mjs';
import { monitorEmfDocument } from '../../src/monitor/metrics.js';
import { allStrings, getAtt, isRecord, ofType, parameter, ref, resource, resources, roleStatements, section, type Json } from '../helpers/cfn-template.js';
import { loadCfnYaml } from '../helpers/cfn-yaml.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

const STACKS = [
  { file: 'examples/cloudformation/stack.yaml', monitor: 'examples/handler/monitor.ts', handler: 'examples/handler/index.ts', adapter: 'redis' },
  {
    file: 'examples/cloudformation/stack-memcached.yaml',
    monitor: 'examples/handler/monitor-memcached.ts',
    handler: 'examples/handler/memcached.ts',
    adapter: 'memcached',
  },
] as const;

/** The resources the monitor adds, and the condition each must carry. */
const MONITOR_RESOURCES: Record<string, string> = {
  MonitorLogGroup: 'MonitorOn',
  MonitorRole: 'MonitorOn',
  MonitorFunction: 'MonitorOn',
  MonitorStreamMapping: 'MonitorOn',
  DynamoDbGatewayEndpoint: 'CreateDynamoDbEndpoint',
  MonitorEgressToDynamoDb: 'MonitorOn',
  StaleKeysAlarm: 'MonitorOn',
  UncheckedKeysAlarm: 'MonitorOn',
};

describe.each(STACKS)('$file: consistency monitor', ({ file, monitor, handler, adapter }) => {
  const template = loadCfnYaml(join(ROOT, file));
  const conditions = section(template, 'Conditions');

  it('is off by default, and every resource it adds is conditional on it', () => {
    expect(parameter(template, 'EnableConsistencyMonitor')).toMatchObject({ Default: 'false', AllowedValues: ['true', 'false'] });
    expect(conditions['MonitorOn']).toEqual({ 'Fn::Equals': [{ Ref: 'EnableConsistencyMonitor' }, 'true'] });
    expect(conditions['CreateDynamoDbEndpoint']).toEqual({ 'Fn::And': [{ Condition: 'MonitorOn' }, { Condition: 'HasRouteTables' }] });
    for (const [name, condition] of Object.entries(MONITOR_RESOURCES)) expect(resource(template, name).condition, name).toBe(condition);
    // Anything that mentions a monitor resource is itself conditional, or guards the mention.
    const monitorNames = new Set(Object.keys(MONITOR_RESOURCES));
    for (const other of resources(template).filter((r) => !monitorNames.has(r.name))) {
      const mentions = allStrings(other.raw).filter((text) => monitorNames.has(text));
      if (mentions.length > 0) expect(JSON.stringify(other.raw), other.name).toContain('"Fn::If":["MonitorOn"');
    }
    for (const [name, output] of Object.entries(section(template, 'Outputs'))) {
      if (allStrings(output).some((text) => monitorNames.has(text))) expect(isRecord(output) && output['Condition'], name).toBe('MonitorOn');
    }
  });

  it('refuses the monitor without its code and the DynamoDB prefix list (Rules)', () => {
    const rules = section(template, 'Rules');
    const rule = rules['MonitorNeedsCodeAndDynamoDbRoute'];
    expect(isRecord(rule) && rule['RuleCondition']).toEqual({ 'Fn::Equals': [{ Ref: 'EnableConsistencyMonitor' }, 'true'] });
    const asserted = (isRecord(rule) && Array.isArray(rule['Assertions']) ? rule['Assertions'] : []).map((a: Json) =>
      isRecord(a) ? allStrings(a['Assert']) : [],
    );
    expect(asserted).toEqual([
      ['MonitorCodeS3Key', ''],
      ['DynamoDbPrefixListId', ''],
    ]);
    for (const name of ['MonitorCodeS3Key', 'DynamoDbPrefixListId', 'RouteTableIds']) expect(parameter(template, name)['Default'], name).toBe('');
  });

  it('runs its own zip on the same stream, after the grace, with the handler settings it reads', () => {
    const fn = resource(template, 'MonitorFunction').properties;
    expect(fn['Code']).toEqual({ S3Bucket: { Ref: 'CodeS3Bucket' }, S3Key: { Ref: 'MonitorCodeS3Key' } });
    const built = EXAMPLES.find((example) => example.entry === monitor);
    expect(TEMPLATES[built?.zip ?? '']).toBe(file);
    expect(KEY_PARAMETERS[built?.zip ?? '']).toBe('MonitorCodeS3Key');
    // The timeout must outlast the longest grace the template allows, with as much again for the checks.
    expect(Number(fn['Timeout']) * 1000).toBeGreaterThanOrEqual(2 * Number(parameter(template, 'MonitorGraceMs')['MaxValue']));
    const environment = fn['Environment'];
    const variables = isRecord(environment) && isRecord(environment['Variables']) ? environment['Variables'] : {};
    const handlerFn = resource(template, 'Function').properties['Environment'];
    const handlerVariables = isRecord(handlerFn) && isRecord(handlerFn['Variables']) ? handlerFn['Variables'] : {};
    // The handler's cache settings, identical, so both reach the same cache with the same rules.
    for (const [name, value] of Object.entries(handlerVariables)) expect(variables[name], name).toEqual(value);
    expect(ref(variables['MONITOR_GRACE_MS'])).toBe('MonitorGraceMs');
    expect(ref(variables['MONITOR_SAMPLE_RATE'])).toBe('MonitorSampleRate');
    const setup = read('examples/handler/monitor-setup.ts');
    for (const name of ['MONITOR_GRACE_MS', 'MONITOR_SAMPLE_RATE']) expect(setup).toContain(`'${name}'`);
    expect(read(monitor)).toContain(`from './${handler.replace(/^.*\//, '').replace(/\.ts$/, '.js')}'`);

    const mapping = resource(template, 'MonitorStreamMapping').properties;
    expect(getAtt(mapping['EventSourceArn'])).toEqual(['Table', 'StreamArn']);
    expect(ref(mapping['FunctionName'])).toBe('MonitorFunction');
    expect(mapping['DestinationConfig']).toBeUndefined();
    expect(Number(mapping['MaximumRetryAttempts'])).toBeGreaterThanOrEqual(0);
    expect(Number(mapping['MaximumRetryAttempts'])).toBeLessThanOrEqual(10);
    // The same filter as the handler's mapping: the monitor checks what the handler applies.
    expect(mapping['FilterCriteria']).toEqual(resource(template, 'StreamMapping').properties['FilterCriteria']);
  });

  it('alarms on StaleKeys with the namespace and dimensions the monitor emits, notifying on alarm and on OK', () => {
    const emitted = monitorEmfDocument(
      {
        Records: 1,
        SampledRecords: 1,
        CheckedKeys: 1,
        StaleKeys: 1,
        UncheckedKeys: 0,
        RepairedKeys: 0,
        InvalidRecords: 0,
        StreamLagMs: undefined,
        StaleAgeMs: undefined,
      },
      adapter,
      {},
      0,
    );
    const directive = isRecord(emitted['_aws']) && Array.isArray(emitted['_aws']['CloudWatchMetrics']) ? emitted['_aws']['CloudWatchMetrics'][0] : undefined;
    const dimensionNames = isRecord(directive) && Array.isArray(directive['Dimensions']) ? (directive['Dimensions'][0] as Json[]) : [];
    const expected = dimensionNames.map((name) => ({ Name: name, Value: emitted[String(name)] }));
    expect(expected).toEqual([{ Name: 'Monitor', Value: adapter }]);
    for (const name of ['StaleKeysAlarm', 'UncheckedKeysAlarm']) {
      const alarm = resource(template, name).properties;
      expect(alarm['Namespace'], name).toBe(isRecord(directive) ? directive['Namespace'] : undefined);
      expect(alarm['Dimensions'], name).toEqual(expected);
      expect(alarm['OKActions'], name).toEqual(alarm['AlarmActions']);
      expect(allStrings(alarm['AlarmActions'])).toContain('AlarmTopicArn');
    }
    expect(resource(template, 'StaleKeysAlarm').properties).toMatchObject({
      MetricName: 'StaleKeys',
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it("gives the monitor's role GetItem on the table only, the stream read, and no write of any kind", () => {
    const statements = roleStatements(template).filter((s) => s.role === 'MonitorRole');
    const byAction = new Map<string, Json[]>();
    for (const statement of statements) for (const action of statement.actions) byAction.set(String(action), statement.resources);
    expect([...byAction.keys()].filter((action) => action.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
    ]);
    expect(byAction.get('dynamodb:GetItem')?.map(getAtt)).toEqual([['Table', 'Arn']]);
    for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'])
      expect(byAction.get(action)?.map(getAtt), action).toEqual([['Table', 'StreamArn']]);
    expect(allStrings(byAction.get('logs:PutLogEvents')).join(' ')).toContain('log-group:${MonitorLogGroup}:*');
    const writes = /^(dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite)|sqs:|secretsmanager:(Put|Update|Create|Delete))/;
    for (const action of byAction.keys()) expect(action, action).not.toMatch(writes);
    const secretReaders = byAction.get('secretsmanager:GetSecretValue');
    if (secretReaders !== undefined) expect(secretReaders.map(ref)).toEqual(['CacheSecret']);
  });

  it('opens a DynamoDB route only with the monitor: a gateway endpoint on the given route tables and HTTPS to the prefix list', () => {
    const endpoint = resource(template, 'DynamoDbGatewayEndpoint').properties;
    expect(endpoint).toMatchObject({
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.dynamodb' },
      RouteTableIds: { Ref: 'RouteTableIds' },
    });
    expect(conditions['HasRouteTables']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'RouteTableIds' }] }, ''] }] });
    const dynamoRoutes = ofType(template, 'AWS::EC2::SecurityGroupEgress').filter((rule) => rule.properties['DestinationPrefixListId'] !== undefined);
    expect(
      dynamoRoutes.map((rule) => [
        rule.name,
        rule.condition,
        ref(rule.properties['DestinationPrefixListId']),
        rule.properties['FromPort'],
        rule.properties['ToPort'],
      ]),
    ).toEqual([['MonitorEgressToDynamoDb', 'MonitorOn', 'DynamoDbPrefixListId', 443, 443]]);
    expect(
      ofType(template, 'AWS::EC2::VPCEndpoint')
        .filter((e) => allStrings(e.properties['ServiceName']).join('').includes('dynamodb'))
        .map((e) => e.condition),
    ).toEqual(['CreateDynamoDbEndpoint']);
  });
});
