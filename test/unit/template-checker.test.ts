import { describe, expect, it } from 'vitest';
import { checkTemplate } from '../helpers/cfn-check.js';
import { parseCfnYaml } from '../helpers/cfn-yaml.js';

/** A small valid template; each test breaks one thing in it. */
const VALID = `
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Retention:
    Type: Number
    Default: 30
  Topic:
    Type: String
    Default: ''
Conditions:
  HasTopic: !Not [!Equals [!Ref Topic, '']]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
      MessageRetentionPeriod: 1209600
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: !Ref Retention
  Alarm:
    Type: AWS::CloudWatch::Alarm
    DependsOn: Logs
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - { Name: QueueName, Value: !GetAtt Queue.QueueName }
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      AlarmActions: !If [HasTopic, [!Ref Topic], !Ref AWS::NoValue]
  OptionalTopic:
    Type: AWS::SNS::Topic
    Condition: HasTopic
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: example
      VpcId: vpc-0123
Outputs:
  Url:
    Value: !Sub '\${Queue.QueueUrl} in \${AWS::Region}'
  TopicArn:
    Condition: HasTopic
    Value: !Ref OptionalTopic
`;

function check(text: string): string[] {
  return checkTemplate(parseCfnYaml(text));
}

function broken(from: string, to: string): string[] {
  if (!VALID.includes(from)) throw new Error(`test bug: ${from} is not in the template`);
  return check(VALID.replace(from, to));
}

describe('checkTemplate (CloudFormation schema checker)', () => {
  it('accepts a valid template', () => {
    expect(check(VALID)).toEqual([]);
  });

  it('reports an unknown resource type', () => {
    expect(broken('AWS::SQS::Queue', 'AWS::SQS::Queeue')).toEqual([expect.stringContaining('unknown resource type AWS::SQS::Queeue')]);
  });

  it('reports an unknown property, naming the known ones', () => {
    expect(broken('SqsManagedSseEnabled: true', 'SqsManagedSSEEnabled: true')).toEqual([
      expect.stringMatching(/Resources\.Queue\.Properties\.SqsManagedSSEEnabled: unknown property .*SqsManagedSseEnabled/),
    ]);
  });

  it('reports a value of the wrong type', () => {
    expect(broken('SqsManagedSseEnabled: true', 'SqsManagedSseEnabled: [true]')).toEqual([
      expect.stringContaining('SqsManagedSseEnabled: expected a boolean, got a list'),
    ]);
    expect(broken('Period: 60', 'Period: sixty')).toEqual([expect.stringContaining('Period: expected a number')]);
    expect(broken('Period: 60', 'Period: 60.5')).toEqual([expect.stringContaining('Period: expected an integer')]);
    expect(broken('- { Name: QueueName, Value: !GetAtt Queue.QueueName }', 'QueueName')).toEqual([expect.stringContaining('Dimensions: expected a list')]);
  });

  it('reports a nested property the nested type does not have', () => {
    expect(broken('{ Name: QueueName, Value', '{ Key: QueueName, Value')).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Dimensions[0].Key: unknown property'),
        expect.stringContaining('Dimensions[0].Name: required property missing'),
      ]),
    );
  });

  it('reports a missing required property', () => {
    expect(broken('      GroupDescription: example\n', '')).toEqual([
      expect.stringContaining('Resources.Group.Properties.GroupDescription: required property missing'),
    ]);
  });

  it('reports a GetAtt of an attribute the type does not have', () => {
    expect(broken('!GetAtt Queue.QueueName', '!GetAtt Queue.Name')).toEqual([expect.stringMatching(/AWS::SQS::Queue has no attribute "Name"/)]);
    expect(broken('${Queue.QueueUrl}', '${Queue.Url}')).toEqual([expect.stringMatching(/AWS::SQS::Queue has no attribute "Url"/)]);
  });

  it('reports a GetAtt or Ref of a resource that does not exist', () => {
    expect(broken('!GetAtt Queue.QueueName', '!GetAtt Queues.QueueName')).toEqual([expect.stringContaining('"Queues" is not a resource')]);
    expect(broken('!Ref Retention', '!Ref Retentions')).toEqual([expect.stringContaining('Ref "Retentions" names no parameter')]);
    expect(broken('${AWS::Region}', '${Region}')).toEqual([expect.stringContaining('${Region} names no variable')]);
  });

  it('reports an undefined condition and a DependsOn target that does not exist', () => {
    expect(broken('!If [HasTopic,', '!If [HasTopics,')).toEqual([expect.stringContaining('"HasTopics" is not a condition')]);
    expect(broken('DependsOn: Logs', 'DependsOn: Log')).toEqual([expect.stringContaining('"Log" is not a resource')]);
    expect(broken('    Condition: HasTopic\n  Group', '    Condition: HasTopik\n  Group')).toEqual(
      expect.arrayContaining([expect.stringContaining('Resources.OptionalTopic.Condition: "HasTopik" is not a condition')]),
    );
  });

  it('reports a reference to a conditional resource outside its condition', () => {
    expect(broken('    Condition: HasTopic\n    Value: !Ref OptionalTopic', '    Value: !Ref OptionalTopic')).toEqual([
      expect.stringContaining('OptionalTopic exists only when HasTopic holds'),
    ]);
  });

  it('checks both branches of Fn::If against the property type', () => {
    expect(broken('[!Ref Topic], !Ref AWS::NoValue]', '[!Ref Topic], true]')).toEqual([expect.stringContaining('AlarmActions.Fn::If[2]: expected a list')]);
  });

  it('reports a parameter default outside its AllowedValues or type', () => {
    expect(broken('Default: 30', 'Default: thirty')).toEqual([expect.stringContaining('"thirty" is not a number')]);
    expect(broken("Default: ''", 'Default: x\n    AllowedValues: [a, b]')).toEqual([expect.stringContaining('is not one of AllowedValues')]);
  });

  it('reads every CloudFormation short form', () => {
    const parsed = parseCfnYaml(`
A: !GetAtt Cache.Endpoint.Address
B: !Sub ['\${x}', { x: !Ref P }]
C: !Select [0, !GetAZs '']
D: !Join ['', [!Base64 x, !FindInMap [M, k, v], !ImportValue e, !Cidr [10.0.0.0/16, 2, 8]]]
E: !And [!Condition X, !Or [!Condition Y, !Not [!Condition Z]]]
F: !Split [',', !Ref L]
`);
    expect(parsed).toEqual({
      A: { 'Fn::GetAtt': ['Cache', 'Endpoint.Address'] },
      B: { 'Fn::Sub': ['${x}', { x: { Ref: 'P' } }] },
      C: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      D: {
        'Fn::Join': ['', [{ 'Fn::Base64': 'x' }, { 'Fn::FindInMap': ['M', 'k', 'v'] }, { 'Fn::ImportValue': 'e' }, { 'Fn::Cidr': ['10.0.0.0/16', 2, 8] }]],
      },
      E: { 'Fn::And': [{ Condition: 'X' }, { 'Fn::Or': [{ Condition: 'Y' }, { 'Fn::Not': [{ Condition: 'Z' }] }] }] },
      F: { 'Fn::Split': [',', { Ref: 'L' }] },
    });
  });
});
