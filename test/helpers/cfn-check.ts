/**
 * An offline CloudFormation template checker, driven by the CloudFormation resource schemas
 * that `@aws-cdk/aws-service-spec` ships (the registry schemas AWS publishes, as a database).
 *
 * It checks what breaks deployments most often and can be decided without an AWS account:
 * - every resource type exists; every property (at every nesting level) exists on its type;
 * - literal values have the schema's type (string / number / integer / boolean / list / map /
 *   nested object / tag), and a literal string is one of the schema's allowed values, if any;
 * - required properties are present;
 * - every `Ref` names a parameter, resource or pseudo parameter; every `Fn::GetAtt` (and
 *   `${Res.Attr}` in `Fn::Sub`) names a resource and an attribute that type has;
 * - every condition used (`Fn::If`, `Condition:`) is defined; `DependsOn` targets exist;
 * - parameter defaults fit their type and `AllowedValues`.
 *
 * Where a value is an intrinsic function, its result type is not known statically; the value
 * is accepted in any position, but the function's own arguments are still checked.
 *
 * @module
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';
import type { Template } from './cfn-yaml.js';

let cached: SpecDatabase | undefined;

/** The resource schema database; loaded once per process (about a second). */
export function specDatabase(): SpecDatabase {
  cached ??= loadAwsServiceSpecSync();
  return cached;
}

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

const TOP_LEVEL = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
]);

const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]);

const PARAMETER_TYPES = new Set([
  'String',
  'Number',
  'List<Number>',
  'CommaDelimitedList',
  'AWS::EC2::VPC::Id',
  'List<AWS::EC2::Subnet::Id>',
  'AWS::EC2::Subnet::Id',
  'AWS::EC2::SecurityGroup::Id',
  'List<AWS::EC2::SecurityGroup::Id>',
  'AWS::EC2::KeyPair::KeyName',
  'AWS::EC2::AvailabilityZone::Name',
  'AWS::SSM::Parameter::Value<String>',
]);

const INTRINSICS = new Set([
  'Ref',
  'Condition',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::If',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
  'Fn::Select',
  'Fn::Split',
  'Fn::Join',
  'Fn::FindInMap',
  'Fn::GetAZs',
  'Fn::Base64',
  'Fn::ImportValue',
  'Fn::Cidr',
  'Fn::Length',
  'Fn::ToJsonString',
]);

type Json = unknown;

function isRecord(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ 'Fn::X': ... }` or `{ Ref: ... }` with exactly one key: the intrinsic name, else undefined. */
function intrinsicName(value: Json): string | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const [key] = keys;
  if (key === undefined) return undefined;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

/** Checks one template; returns every problem found as `path: message`. */
export function checkTemplate(template: Template, db: SpecDatabase = specDatabase()): string[] {
  return new Checker(template, db).run();
}

class Checker {
  private readonly problems: string[] = [];
  private readonly parameters: Record<string, Json>;
  private readonly resources: Record<string, Json>;
  private readonly conditions: Record<string, Json>;
  private readonly mappings: Record<string, Json>;

  constructor(
    private readonly template: Template,
    private readonly db: SpecDatabase,
  ) {
    this.parameters = this.section('Parameters');
    this.resources = this.section('Resources');
    this.conditions = this.section('Conditions');
    this.mappings = this.section('Mappings');
  }

  run(): string[] {
    for (const key of Object.keys(this.template)) {
      if (!TOP_LEVEL.has(key)) this.problem(key, 'unknown top-level section');
    }
    if (Object.keys(this.resources).length === 0) this.problem('Resources', 'a template needs at least one resource');
    for (const [name, parameter] of Object.entries(this.parameters)) this.checkParameter(name, parameter);
    for (const [name, condition] of Object.entries(this.conditions)) {
      this.walkIntrinsics(condition, `Conditions.${name}`);
    }
    for (const [name, resource] of Object.entries(this.resources)) this.checkResource(name, resource);
    for (const [name, output] of Object.entries(this.section('Outputs'))) {
      const path = `Outputs.${name}`;
      if (!isRecord(output) || !('Value' in output)) {
        this.problem(path, 'an output needs a Value');
        continue;
      }
      const condition = output['Condition'];
      this.checkConditionName(condition, `${path}.Condition`);
      this.walkIntrinsics(output['Value'], `${path}.Value`, new Set(typeof condition === 'string' ? [condition] : []));
    }
    return this.problems;
  }

  private section(name: string): Record<string, Json> {
    const value = this.template[name];
    if (value === undefined) return {};
    if (!isRecord(value)) {
      this.problem(name, 'must be a mapping');
      return {};
    }
    return value;
  }

  private problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  private checkParameter(name: string, parameter: Json): void {
    const path = `Parameters.${name}`;
    if (!isRecord(parameter)) return this.problem(path, 'must be a mapping');
    const type = parameter['Type'];
    if (typeof type !== 'string' || !PARAMETER_TYPES.has(type)) {
      this.problem(`${path}.Type`, `unknown parameter type ${JSON.stringify(type)}`);
    }
    const allowed = parameter['AllowedValues'];
    const fallback = parameter['Default'];
    if (fallback === undefined) return;
    if (type === 'Number' && Number.isNaN(Number(fallback))) {
      this.problem(`${path}.Default`, `${JSON.stringify(fallback)} is not a number`);
    }
    if (Array.isArray(allowed) && !allowed.map(String).includes(String(fallback))) {
      this.problem(`${path}.Default`, `${JSON.stringify(fallback)} is not one of AllowedValues`);
    }
    for (const bound of ['MinValue', 'MaxValue'] as const) {
      const limit = parameter[bound];
      if (typeof limit !== 'number') continue;
      const n = Number(fallback);
      if (bound === 'MinValue' ? n < limit : n > limit) {
        this.problem(`${path}.Default`, `${String(fallback)} is outside ${bound} ${limit}`);
      }
    }
    const pattern = parameter['AllowedPattern'];
    if (typeof pattern === 'string' && typeof fallback === 'string' && !new RegExp(`^(?:${pattern})$`).test(fallback)) {
      this.problem(`${path}.Default`, `${JSON.stringify(fallback)} does not match AllowedPattern`);
    }
  }

  private resourceSpec(type: string): Resource | undefined {
    return this.db.lookup('resource', 'cloudFormationType', 'equals', type)[0];
  }

  private checkResource(name: string, resource: Json): void {
    const path = `Resources.${name}`;
    if (!isRecord(resource)) return this.problem(path, 'must be a mapping');
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) this.problem(`${path}.${key}`, 'unknown resource attribute');
    }
    this.checkConditionName(resource['Condition'], `${path}.Condition`);
    const dependsOn = resource['DependsOn'];
    for (const target of dependsOn === undefined ? [] : Array.isArray(dependsOn) ? dependsOn : [dependsOn]) {
      if (typeof target !== 'string' || !(target in this.resources)) {
        this.problem(`${path}.DependsOn`, `${JSON.stringify(target)} is not a resource in this template`);
      }
    }
    const type = resource['Type'];
    if (typeof type !== 'string') return this.problem(`${path}.Type`, 'missing');
    const spec = this.resourceSpec(type);
    if (spec === undefined) return this.problem(`${path}.Type`, `unknown resource type ${type}`);
    const properties = resource['Properties'] ?? {};
    const condition = resource['Condition'];
    this.walkIntrinsics(properties, `${path}.Properties`, new Set(typeof condition === 'string' ? [condition] : []));
    this.checkObject(properties, spec.properties, `${path}.Properties`);
  }

  /** Properties of a resource or nested type: unknown names, required names, value types. */
  private checkObject(value: Json, properties: Resource['properties'], path: string): void {
    if (intrinsicName(value) !== undefined) return this.checkIntrinsicValue(value, path, (v, p) => this.checkObject(v, properties, p));
    if (!isRecord(value)) return this.problem(path, `expected an object, got ${describe(value)}`);
    for (const [key, child] of Object.entries(value)) {
      const property = properties[key];
      if (property === undefined) {
        this.problem(`${path}.${key}`, `unknown property (known: ${Object.keys(properties).sort().join(', ')})`);
        continue;
      }
      this.checkValue(child, property.type, `${path}.${key}`);
    }
    for (const [key, property] of Object.entries(properties)) {
      if (property.required === true && !(key in value)) this.problem(`${path}.${key}`, 'required property missing');
    }
  }

  /**
   * Values that are intrinsics: `Fn::If` branches are checked against the expected shape
   * (either may be `AWS::NoValue`); other functions produce values we cannot type statically.
   */
  private checkIntrinsicValue(value: Json, path: string, check: (v: Json, p: string) => void): void {
    if (!isRecord(value)) return;
    const args = value['Fn::If'];
    if (Array.isArray(args) && args.length === 3) {
      for (const [i, branch] of [args[1], args[2]].entries()) {
        if (isRecord(branch) && branch['Ref'] === 'AWS::NoValue') continue;
        check(branch, `${path}.Fn::If[${i + 1}]`);
      }
    }
  }

  private checkValue(value: Json, type: PropertyType, path: string): void {
    if (intrinsicName(value) !== undefined) {
      return this.checkIntrinsicValue(value, path, (v, p) => this.checkValue(v, type, p));
    }
    switch (type.type) {
      case 'string':
        if (!['string', 'number', 'boolean'].includes(typeof value)) {
          return this.problem(path, `expected a string, got ${describe(value)}`);
        }
        if (type.allowedValues !== undefined && type.allowedValues.length > 0 && !type.allowedValues.includes(String(value))) {
          this.problem(path, `${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}`);
        }
        return;
      case 'number':
      case 'integer': {
        const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
        if (Number.isNaN(n)) return this.problem(path, `expected a number, got ${describe(value)}`);
        if (type.type === 'integer' && !Number.isInteger(n)) this.problem(path, `expected an integer, got ${n}`);
        return;
      }
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') {
          this.problem(path, `expected a boolean, got ${describe(value)}`);
        }
        return;
      case 'date-time':
        if (typeof value !== 'string') this.problem(path, `expected a date-time string, got ${describe(value)}`);
        return;
      case 'json':
        return;
      case 'null':
        if (value !== null) this.problem(path, `expected null, got ${describe(value)}`);
        return;
      case 'tag':
        return this.checkObject(value, TAG_PROPERTIES, path);
      case 'array':
        if (!Array.isArray(value)) return this.problem(path, `expected a list, got ${describe(value)}`);
        value.forEach((element, i) => this.checkValue(element, type.element, `${path}[${i}]`));
        return;
      case 'map':
        if (!isRecord(value)) return this.problem(path, `expected a map, got ${describe(value)}`);
        for (const [key, element] of Object.entries(value)) this.checkValue(element, type.element, `${path}.${key}`);
        return;
      case 'ref': {
        const definition: TypeDefinition = this.db.get('typeDefinition', type.reference);
        return this.checkObject(value, definition.properties, path);
      }
      case 'union': {
        // Accept when any member type accepts the value without problems.
        const attempts = type.types.map((member) => {
          const sub = new Checker(this.template, this.db);
          sub.checkValue(value, member, path);
          return sub.problems;
        });
        if (attempts.some((problems) => problems.length === 0)) return;
        this.problems.push(...(attempts[0] ?? [`${path}: matches no member of a union type`]));
        return;
      }
    }
  }

  /**
   * A reference to a conditional resource must sit where that condition holds: in a resource or
   * output with the same condition, or in the matching branch of an `Fn::If`. Otherwise the
   * stack fails when the condition is false. `!X` in `active` means "X is false"; a condition
   * defined as `Fn::Not [Condition X]` holds there.
   */
  private checkConditional(resourceName: string, path: string, active: ReadonlySet<string>): void {
    const resource = this.resources[resourceName];
    const condition = isRecord(resource) ? resource['Condition'] : undefined;
    if (typeof condition !== 'string' || active.has(condition)) return;
    const definition = this.conditions[condition];
    if (isRecord(definition)) {
      const negated = definition['Fn::Not'];
      const inner = Array.isArray(negated) ? negated[0] : undefined;
      if (isRecord(inner) && typeof inner['Condition'] === 'string' && active.has(`!${inner['Condition']}`)) return;
    }
    this.problem(path, `${resourceName} exists only when ${condition} holds; reference it under that condition (Fn::If or the same Condition)`);
  }

  private checkConditionName(name: Json, path: string): void {
    if (name === undefined) return;
    if (typeof name !== 'string' || !(name in this.conditions)) {
      this.problem(path, `${JSON.stringify(name)} is not a condition in this template`);
    }
  }

  private checkRefTarget(target: Json, path: string, active: ReadonlySet<string>): void {
    if (typeof target !== 'string') return this.problem(path, `Ref needs a name, got ${describe(target)}`);
    if (target in this.resources) return this.checkConditional(target, path, active);
    if (PSEUDO_PARAMETERS.has(target) || target in this.parameters) return;
    this.problem(path, `Ref ${JSON.stringify(target)} names no parameter, resource or pseudo parameter`);
  }

  private checkGetAtt(resourceName: Json, attribute: Json, path: string, active: ReadonlySet<string>): void {
    if (typeof resourceName !== 'string' || !(resourceName in this.resources)) {
      return this.problem(path, `GetAtt: ${JSON.stringify(resourceName)} is not a resource in this template`);
    }
    this.checkConditional(resourceName, path, active);
    if (typeof attribute !== 'string') return; // computed attribute name: cannot check
    const resource = this.resources[resourceName];
    const type = isRecord(resource) ? resource['Type'] : undefined;
    const spec = typeof type === 'string' ? this.resourceSpec(type) : undefined;
    if (spec === undefined) return; // reported where the resource is checked
    if (!(attribute in spec.attributes)) {
      this.problem(path, `GetAtt: ${type as string} has no attribute ${JSON.stringify(attribute)} (has: ${Object.keys(spec.attributes).join(', ')})`);
    }
  }

  private checkSubString(text: Json, variables: Record<string, Json>, path: string, active: ReadonlySet<string>): void {
    if (typeof text !== 'string') return this.problem(path, `Fn::Sub needs a string, got ${describe(text)}`);
    for (const match of text.matchAll(/\$\{([^}]*)\}/g)) {
      const inner = match[1] ?? '';
      if (inner.startsWith('!')) continue; // ${!Literal} is an escaped literal
      if (inner in variables || PSEUDO_PARAMETERS.has(inner) || inner in this.parameters) continue;
      if (inner in this.resources) {
        this.checkConditional(inner, path, active);
        continue;
      }
      const dot = inner.indexOf('.');
      if (dot > 0) {
        this.checkGetAtt(inner.slice(0, dot), inner.slice(dot + 1), path, active);
        continue;
      }
      this.problem(path, `Fn::Sub: \${${inner}} names no variable, parameter, resource or pseudo parameter`);
    }
  }

  /** Walks any value and checks the arguments of every intrinsic function in it. */
  private walkIntrinsics(value: Json, path: string, active: ReadonlySet<string> = new Set()): void {
    if (Array.isArray(value)) {
      value.forEach((element, i) => this.walkIntrinsics(element, `${path}[${i}]`, active));
      return;
    }
    if (!isRecord(value)) return;
    const name = intrinsicName(value) ?? (Object.keys(value).length === 1 && 'Condition' in value && path.startsWith('Conditions') ? 'Condition' : undefined);
    if (name === undefined) {
      for (const [key, child] of Object.entries(value)) {
        if (key.startsWith('Fn::') && !INTRINSICS.has(key)) this.problem(`${path}.${key}`, 'unknown intrinsic function');
        this.walkIntrinsics(child, `${path}.${key}`, active);
      }
      return;
    }
    const args = value[name];
    const at = `${path}.${name}`;
    switch (name) {
      case 'Ref':
        this.checkRefTarget(args, at, active);
        return;
      case 'Condition':
        this.checkConditionName(args, at);
        return;
      case 'Fn::GetAtt':
        if (!Array.isArray(args) || args.length !== 2) return this.problem(at, 'needs [resource, attribute]');
        this.checkGetAtt(args[0], args[1], at, active);
        this.walkIntrinsics(args[1], at, active);
        return;
      case 'Fn::Sub':
        if (Array.isArray(args)) {
          const [text, variables] = args;
          if (args.length !== 2 || !isRecord(variables)) return this.problem(at, 'needs a string or [string, variables]');
          this.checkSubString(text, variables, at, active);
          this.walkIntrinsics(variables, at, active);
          return;
        }
        this.checkSubString(args, {}, at, active);
        return;
      case 'Fn::If':
        if (!Array.isArray(args) || args.length !== 3) return this.problem(at, 'needs [condition, valueIfTrue, valueIfFalse]');
        this.checkConditionName(args[0], at);
        this.walkIntrinsics(args[1], `${at}[1]`, new Set([...active, String(args[0])]));
        this.walkIntrinsics(args[2], `${at}[2]`, new Set([...active, `!${String(args[0])}`]));
        return;
      case 'Fn::FindInMap':
        if (!Array.isArray(args) || args.length < 3) return this.problem(at, 'needs [map, key, key]');
        if (typeof args[0] === 'string' && !(args[0] in this.mappings)) this.problem(at, `no mapping ${JSON.stringify(args[0])}`);
        this.walkIntrinsics(args, at, active);
        return;
      default:
        if (!INTRINSICS.has(name)) this.problem(at, 'unknown intrinsic function');
        this.walkIntrinsics(args, at, active);
    }
  }
}

/** CloudFormation's resource-tag shape (`{ Key, Value }`), used where the schema says `tag`. */
const TAG_PROPERTIES: Resource['properties'] = {
  Key: { type: { type: 'string' }, required: true },
  Value: { type: { type: 'string' }, required: true },
};

function describe(value: Json): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
