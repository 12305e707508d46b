/**
 * `ddb-cache-sync init-stack <dir> [--force]`: copies the example CloudFormation templates,
 * their README and the example handler sources out of the installed package into `<dir>`, as
 * the starting point of a deployment (see docs/deploy.md).
 *
 * @module
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from './package-root.js';

export { packageRoot };

/** What `init-stack` writes: source path in the package -> path under the target folder. */
export const STACK_FILES: readonly { readonly from: string; readonly to: string }[] = [
  { from: 'examples/cloudformation/stack.yaml', to: 'stack.yaml' },
  { from: 'examples/cloudformation/stack-memcached.yaml', to: 'stack-memcached.yaml' },
  { from: 'examples/cloudformation/README.md', to: 'README.md' },
  { from: 'examples/handler/index.ts', to: 'handler/index.ts' },
  { from: 'examples/handler/memcached.ts', to: 'handler/memcached.ts' },
  { from: 'examples/handler/rules.ts', to: 'handler/rules.ts' },
];

const USAGE = `usage: ddb-cache-sync init-stack <dir> [--force]

Writes the example CloudFormation templates (stack.yaml: Valkey/Redis; stack-memcached.yaml:
Memcached), a README with the deploy commands, and the example handler sources to <dir>.

  --force   overwrite files that already exist in <dir>`;

interface Arguments {
  readonly dir: string;
  readonly force: boolean;
}

function parseArguments(argv: readonly string[]): Arguments | string {
  let dir: string | undefined;
  let force = false;
  for (const arg of argv) {
    if (arg === '--force' || arg === '-f') force = true;
    else if (arg.startsWith('-')) return `unknown option ${JSON.stringify(arg)}`;
    else if (dir === undefined) dir = arg;
    else return `only one <dir> is allowed, got ${JSON.stringify(dir)} and ${JSON.stringify(arg)}`;
  }
  if (dir === undefined) return 'missing <dir>, the folder to write the templates to (e.g. ./infra)';
  return { dir, force };
}

/** A path as the user will recognize it: relative below the working directory, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Run `init-stack`. Returns the exit code: 0 written, 1 refused (files exist; nothing is
 * written), 2 usage error.
 *
 * @example
 * ```ts
 * import { run } from './init-stack.js';
 * process.exitCode = await run(['./infra']);
 * ```
 */
export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const parsed = parseArguments(argv);
  if (typeof parsed === 'string') {
    console.error(`${parsed}\n\n${USAGE}`);
    return 2;
  }
  const root = packageRoot();
  const target = resolve(process.cwd(), parsed.dir);
  const plan = STACK_FILES.map(({ from, to }) => ({ from: join(root, from), to: join(target, to) }));

  // Check everything before writing anything: a refusal leaves the folder untouched.
  const existing = [];
  for (const { to } of plan) if (await exists(to)) existing.push(to);
  if (existing.length > 0 && !parsed.force) {
    const list = existing.map((path) => `  ${shown(path)}`).join('\n');
    console.error(`refusing to overwrite existing files (pass --force to overwrite):\n${list}`);
    return 1;
  }

  for (const { from, to } of plan) {
    const content = await readFile(from);
    await mkdir(dirname(to), { recursive: true });
    await writeFile(to, content);
    console.log(`wrote ${shown(to)}`);
  }
  console.log(
    `\nNext: read ${join(shown(target), 'README.md')} - bundle and zip the handler, upload the zip to S3, then \`aws cloudformation deploy\` with CodeS3Bucket and CodeS3Key.`,
  );
  return 0;
}
