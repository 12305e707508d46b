/**
 * Every ```ts block in README.md and docs/ compiles under `strict`, as a user pastes it: each
 * block becomes one module in .tmp/snippets/, `ddb-cache-sync/*` resolves to the sources (the
 * repository's tsconfig `paths`), and `tsc` checks them all. A block may use the names a reader
 * brings from their own code (`rules`, `adapter`, `id`, ...): CONTEXT declares those, typed as
 * the library expects them, so the check still catches a snippet that misuses the API.
 *
 * A block that is deliberately not a program is preceded by `<!-- snippet: fragment -->`;
 * FRAGMENTS_ALLOWED keeps that list short.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, '.tmp', 'snippets');
const FRAGMENTS_ALLOWED = 0;

interface Snippet {
  readonly source: string;
  readonly line: number;
  readonly code: string;
  readonly fragment: boolean;
}

/** The ```ts blocks of one markdown file, with the line each starts on. */
function snippetsOf(file: string): Snippet[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\b/.test(lines[i] ?? '')) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++) body.push(lines[i] ?? '');
    const fragment = (lines[start - 1] ?? '').trim() === '<!-- snippet: fragment -->' || (lines[start - 2] ?? '').trim() === '<!-- snippet: fragment -->';
    snippets.push({ source: file, line: start + 1, code: body.join('\n'), fragment });
  }
  return snippets;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

// Names the snippets take from the reader's own code. A global script (no import/export), so
// every snippet module sees it and may shadow it.
const CONTEXT = `
declare const rules: import('ddb-cache-sync').Rule[];
declare const adapter: import('ddb-cache-sync').CacheAdapter;
declare const config: import('ddb-cache-sync').StreamHandlerConfig;
declare const id: string;
interface SnippetUser { pk: string; name: string; email: string; version: number }
declare function loadUser(id: string): Promise<SnippetUser | undefined>;
declare function loadUserFromDynamoDB(id: string): Promise<SnippetUser | undefined>;
declare function myOwnWork(event: import('aws-lambda').DynamoDBStreamEvent): Promise<import('aws-lambda').DynamoDBBatchResponse>;
declare function readCacheUrl(secretArn: string | undefined): Promise<string>;
declare const host: string;
declare const user: string;
declare const username: string;
declare const password: string;
declare const endpoint: string;
declare const primaryEndpoint: string;
declare const configurationEndpoint: string;
declare const db: import('ddb-cache-sync/local').DynamoDbLocal;
declare const client: import('@aws-sdk/client-dynamodb').DynamoDBClient;
declare const streamArn: string;
declare const stack: import('aws-cdk-lib').Stack;
declare const table: import('aws-cdk-lib/aws-dynamodb').ITable;
declare const vpc: import('aws-cdk-lib/aws-ec2').IVpc;
declare const opsTopic: import('aws-cdk-lib/aws-sns').ITopic;
`;

// Modules the snippets import from the reader's project (docs/adapters.md: writing an adapter).
const STUBS: Record<string, string> = {
  'blocks/my-client.ts': `export interface MyClient {
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  del(key: string): Promise<void>;
  get(key: string): Promise<string | undefined>;
  ttl(key: string): Promise<number | undefined>;
}
`,
  'blocks/my-server.ts': `import type { MyClient } from './my-client.js';
export declare function startMyServer(): Promise<{ client: MyClient; maxItemBytes: number; stop(): Promise<void> }>;
`,
  'blocks/rules.ts': `import type { Rule } from 'ddb-cache-sync';
export declare const rules: Rule[];
`,
};

const snippets = ['README.md', ...markdownFiles('docs')].flatMap(snippetsOf);
let diagnostics: Map<string, string[]>;

beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(join(OUT, 'blocks'), { recursive: true });
  mkdirSync(join(OUT, 'src'), { recursive: true });
  for (const snippet of snippets) {
    if (snippet.fragment) continue;
    // Each block is its own module even when it neither imports nor exports.
    writeFileSync(join(OUT, 'blocks', fileName(snippet)), `${snippet.code}\nexport {};\n`);
  }
  for (const [path, text] of Object.entries(STUBS)) writeFileSync(join(OUT, path), text);
  // docs/adapters.md's contract test imports the adapter an earlier block defines.
  const adapterBlock = snippets.find((s) => s.code.includes('export function myAdapter'));
  if (adapterBlock) writeFileSync(join(OUT, 'src', 'index.ts'), `export { myAdapter } from '../blocks/${fileName(adapterBlock).replace(/\.ts$/, '.js')}';\n`);
  writeFileSync(join(OUT, 'context.d.ts'), CONTEXT);
  writeFileSync(
    join(OUT, 'tsconfig.json'),
    JSON.stringify({
      // The repository's settings (strict, paths to src/), minus the ones that only make sense
      // for a whole program: a snippet may declare a name it does not use, and reads items with
      // `item.email` as most users' strict configs allow.
      extends: relative(OUT, join(ROOT, 'tsconfig.json')),
      compilerOptions: { noUnusedLocals: false, noUnusedParameters: false, noPropertyAccessFromIndexSignature: false, noEmit: true },
      include: ['context.d.ts', 'blocks/*.ts', 'src/*.ts'],
    }),
  );
  diagnostics = new Map();
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(OUT, 'tsconfig.json'), '--pretty', 'false'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
  } catch (error) {
    const output = String((error as { stdout?: unknown }).stdout ?? error);
    let key = '(other)';
    for (const line of output.split('\n')) {
      if (line.trim() === '') continue;
      // A diagnostic's continuation lines are indented and belong to the file named above them.
      if (!/^\s/.test(line)) key = /blocks\/([^(]+)\(/.exec(line)?.[1] ?? '(other)';
      diagnostics.set(key, [...(diagnostics.get(key) ?? []), line.replace(/^.*?blocks\//, '')]);
    }
  }
}, 180_000);

function fileName(snippet: Snippet): string {
  return `${snippet.source.replace(/[/\\]/g, '-')}-${snippet.line}.ts`;
}

describe('TypeScript snippets in README.md and docs/', () => {
  it('finds the blocks, and exempts few as fragments', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(20);
    expect(snippets.filter((s) => s.fragment).length).toBeLessThanOrEqual(FRAGMENTS_ALLOWED);
  });

  it.each(snippets.filter((s) => !s.fragment).map((s) => [`${s.source}:${s.line}`, s] as const))('%s compiles under strict', (_, snippet) => {
    expect(diagnostics.get(fileName(snippet)) ?? []).toEqual([]);
  });

  it('leaves no error outside the blocks (context, stubs)', () => {
    expect(diagnostics.get('(other)') ?? []).toEqual([]);
  });
});
