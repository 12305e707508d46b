/**
 * Small accessors for parsed CloudFormation templates, so policy tests read as statements
 * about resources rather than about nested objects.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCfnYaml, type Template } from './cfn-yaml.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The example stacks, each with the handler it deploys and the adapter that handler uses. */
export const EXAMPLE_STACKS = [
  { file: 'examples/cloudformation/stack.yaml', handler: 'examples/handler/index.ts', adapter: 'redis' },
  { file: 'examples/cloudformation/stack-memcached.yaml', handler: 'examples/handler/memcached.ts', adapter: 'memcached' },
] as const;

/** An example template, parsed, by its path from the repository root. */
export function loadExampleTemplate(file: string): Template {
  return loadCfnYaml(join(ROOT, file));
}

/** A repository file's text (a handler's source), by its path from the repository root. */
export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

export type Json = unknown;

export function isRecord(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A resource as the tests see it. */
export interface TemplateResource {
  readonly name: string;
  readonly type: string;
  readonly condition: string | undefined;
  readonly properties: Record<string, Json>;
  readonly raw: Record<string, Json>;
}

export function section(template: Template, name: string): Record<string, Json> {
  const value = template[name];
  return isRecord(value) ? value : {};
}

export function resources(template: Template): TemplateResource[] {
  return Object.entries(section(template, 'Resources')).flatMap(([name, raw]) => {
    if (!isRecord(raw)) return [];
    const properties = raw['Properties'];
    const condition = raw['Condition'];
    return [
      {
        name,
        type: String(raw['Type']),
        condition: typeof condition === 'string' ? condition : undefined,
        properties: isRecord(properties) ? properties : {},
        raw,
      },
    ];
  });
}

export function ofType(template: Template, type: string): TemplateResource[] {
  return resources(template).filter((resource) => resource.type === type);
}

/** The single resource of `type`; throws when there is not exactly one. */
export function only(template: Template, type: string): TemplateResource {
  const found = ofType(template, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  const [resource] = found;
  if (resource === undefined) throw new Error(`no ${type}`);
  return resource;
}

export function resource(template: Template, name: string): TemplateResource {
  const found = resources(template).find((r) => r.name === name);
  if (found === undefined) throw new Error(`no resource ${name}`);
  return found;
}

export function parameter(template: Template, name: string): Record<string, Json> {
  const value = section(template, 'Parameters')[name];
  if (!isRecord(value)) throw new Error(`no parameter ${name}`);
  return value;
}

/**
 * What `aws cloudformation package` does to a Lambda function whose `Code` is a local path:
 * uploads it and replaces the property with its S3 location. Returns a new template.
 */
export function simulatePackage(template: Template): Template {
  const copy = structuredClone(template);
  for (const fn of ofType(copy, 'AWS::Lambda::Function')) {
    if (typeof fn.properties['Code'] === 'string') {
      fn.properties['Code'] = { S3Bucket: 'artifact-bucket', S3Key: `${fn.properties['Code']}-md5` };
    }
  }
  return copy;
}

/** One IAM policy statement, normalized to lists. */
export interface Statement {
  readonly role: string;
  readonly sid: string | undefined;
  readonly effect: Json;
  readonly actions: Json[];
  readonly resources: Json[];
  readonly raw: Record<string, Json>;
}

const list = (value: Json): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Every statement of every inline policy of every IAM role. */
export function roleStatements(template: Template): Statement[] {
  return ofType(template, 'AWS::IAM::Role').flatMap((role) =>
    list(role.properties['Policies']).flatMap((policy) => {
      const document = isRecord(policy) ? policy['PolicyDocument'] : undefined;
      const statements = isRecord(document) ? list(document['Statement']) : [];
      return statements.filter(isRecord).map((raw) => ({
        role: role.name,
        sid: typeof raw['Sid'] === 'string' ? raw['Sid'] : undefined,
        effect: raw['Effect'],
        actions: list(raw['Action']),
        resources: list(raw['Resource']),
        raw,
      }));
    }),
  );
}

/** Every string anywhere inside `value`. */
export function allStrings(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isRecord(value)) return Object.values(value).flatMap(allStrings);
  return [];
}

/** `{ 'Fn::GetAtt': [name, attribute] }` -> [name, attribute], else undefined. */
export function getAtt(value: Json): [string, string] | undefined {
  if (!isRecord(value)) return undefined;
  const args = value['Fn::GetAtt'];
  if (!Array.isArray(args) || typeof args[0] !== 'string' || typeof args[1] !== 'string') return undefined;
  return [args[0], args[1]];
}

/** `{ Ref: name }` -> name, else undefined. */
export function ref(value: Json): string | undefined {
  return isRecord(value) && typeof value['Ref'] === 'string' ? value['Ref'] : undefined;
}
