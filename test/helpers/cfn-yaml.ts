/**
 * Reads CloudFormation YAML the way CloudFormation does: the short-form intrinsic tags
 * (`!Ref`, `!GetAtt`, `!Sub`, ...) become their long JSON form (`{ Ref }`, `{ 'Fn::GetAtt' }`,
 * ...), so checks only ever see one shape.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { parse, YAMLMap, type YAMLSeq, type CollectionTag, type ScalarTag } from 'yaml';

/** Short tag name -> long form key. `!GetAtt` and `!Ref` are handled specially. */
const FUNCTIONS: Record<string, string> = {
  Sub: 'Fn::Sub',
  If: 'Fn::If',
  Equals: 'Fn::Equals',
  Not: 'Fn::Not',
  And: 'Fn::And',
  Or: 'Fn::Or',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  Join: 'Fn::Join',
  FindInMap: 'Fn::FindInMap',
  GetAZs: 'Fn::GetAZs',
  Base64: 'Fn::Base64',
  ImportValue: 'Fn::ImportValue',
  Cidr: 'Fn::Cidr',
  Length: 'Fn::Length',
  ToJsonString: 'Fn::ToJsonString',
  GetAtt: 'Fn::GetAtt',
  Ref: 'Ref',
  Condition: 'Condition',
};

/** Wraps a parsed collection as `{ [key]: collection }`, leaving conversion of nested nodes to yaml. */
function wrap(key: string, node: YAMLMap.Parsed | YAMLSeq.Parsed): YAMLMap {
  const map = new YAMLMap();
  map.set(key, node);
  return map;
}

function tagsFor(short: string, long: string): (ScalarTag | CollectionTag)[] {
  const tag = `!${short}`;
  const scalar: ScalarTag = {
    tag,
    resolve(value: string): unknown {
      if (short === 'GetAtt') {
        // `!GetAtt Res.Attr.Sub` splits at the first dot only: attribute names contain dots.
        const dot = value.indexOf('.');
        return { [long]: dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
      }
      return { [long]: value };
    },
  };
  const seq: CollectionTag = { tag, collection: 'seq', resolve: (node) => wrap(long, node) };
  const map: CollectionTag = { tag, collection: 'map', resolve: (node) => wrap(long, node) };
  return [scalar, seq, map];
}

const customTags = Object.entries(FUNCTIONS).flatMap(([short, long]) => tagsFor(short, long));

/** A parsed template: plain JSON-like data. */
export type Template = Record<string, unknown>;

/** Parse CloudFormation YAML text into long-form JSON data. */
export function parseCfnYaml(text: string): Template {
  const data: unknown = parse(text, { customTags, maxAliasCount: 0, uniqueKeys: true });
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new Error('template is not a YAML mapping');
  }
  return data as Template;
}

/** Read and parse a CloudFormation YAML file. */
export function loadCfnYaml(path: string): Template {
  return parseCfnYaml(readFileSync(path, 'utf8'));
}
