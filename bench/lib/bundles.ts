/**
 * Lambda-style bundles of the handler fixtures (bench/fixtures) and the example handlers, for
 * the cold-start benchmark and the bundle budget test: esbuild, minified, CommonJS, platform
 * node, `@aws-sdk/client-*` external (the Lambda runtime ships them), everything else bundled.
 *
 * @module
 */
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { lambdaBundleOptions } from '../../scripts/esbuild-options.mjs';

/** The repository root, from this file's place (works bundled into .tmp/bench too). */
function findRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  // Source: <root>/bench/lib/; bundled: <root>/.tmp/bench/.
  return resolve(here, '..', '..');
}

/** The bundles compared, by name. */
export const BUNDLES = {
  /** The smallest real Redis handler (url mode). */
  'redis-handler': 'bench/fixtures/redis-handler.ts',
  /** ioredis alone: what the classic Lambda ships. */
  'raw-ioredis': 'bench/fixtures/raw-ioredis.ts',
  /** The smallest real Memcached handler. */
  'memcached-handler': 'bench/fixtures/memcached-handler.ts',
  /** memjs alone. */
  'raw-memjs': 'bench/fixtures/raw-memjs.ts',
  /** Everything the package root exports. */
  'root-entry': 'bench/fixtures/root-entry.ts',
  /** The deployable example handlers (Secrets Manager, settings from the environment). */
  'example-redis': 'examples/handler/index.ts',
  'example-memcached': 'examples/handler/memcached.ts',
} as const;

export type BundleName = keyof typeof BUNDLES;

/** A built bundle. */
export interface Bundle {
  readonly name: BundleName;
  readonly bytes: number;
  readonly text: string;
  /** Input files, relative to the repository root (e.g. `node_modules/ioredis/built/Redis.js`). */
  readonly inputs: readonly string[];
  /** Bytes of output per package (`node_modules/<name>`), plus `src` and `other`. */
  readonly bytesByPackage: Readonly<Record<string, number>>;
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match?.[1]) return match[1];
  return input.startsWith('src/') ? 'src' : 'other';
}

/** Bundle one of {@link BUNDLES} in memory. */
export async function bundle(name: BundleName, root = findRoot()): Promise<Bundle> {
  const result = await build({ ...lambdaBundleOptions(root, BUNDLES[name]), metafile: true, logLevel: 'silent' });
  const [file] = result.outputFiles;
  if (file === undefined) throw new Error(`esbuild produced no output for ${name}`);
  const output = Object.values(result.metafile.outputs)[0];
  const bytesByPackage: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const key = packageOf(input);
    bytesByPackage[key] = (bytesByPackage[key] ?? 0) + bytesInOutput;
  }
  return {
    name,
    bytes: file.contents.byteLength,
    text: file.text,
    inputs: Object.keys(result.metafile.inputs).map((input) => relative(root, resolve(root, input))),
    bytesByPackage,
  };
}
