#!/usr/bin/env node
/**
 * Runs one benchmark: bundles `bench/<name>.ts` (and the library sources it imports) with
 * esbuild into `.tmp/bench/`, then runs the bundle with node. Bundling from `src/` means a
 * benchmark never measures a stale `dist/` and needs nothing but `npm ci` on a fresh clone.
 * Packages (ioredis, memjs, esbuild, @aws-sdk/*) stay external: they load from node_modules
 * exactly as an application would load them.
 *
 * Usage: node bench/run.mjs <throughput|latency|cold-start|memory|reader|sdk-read|plan|profile> [--cpu-prof] [args...]
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
if (name === undefined || !/^[a-z-]+$/.test(name) || !existsSync(join(root, 'bench', `${name}.ts`))) {
  console.error(`usage: node bench/run.mjs <name> [args...], where bench/<name>.ts exists (got ${JSON.stringify(name)})`);
  process.exit(2);
}

/**
 * Bundle a bench entry to `.tmp/bench/<name>.mjs`.
 * @param {string} entry bench file name without extension
 * @returns {Promise<string>} the bundle's path
 */
export async function bundleBench(entry) {
  const outfile = join(root, '.tmp', 'bench', `${entry.replace(/^lib\//, '')}.mjs`);
  await build({
    entryPoints: [join(root, 'bench', `${entry}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}

const outfile = await bundleBench(name);
// Files the benchmarks start as workers or child processes are bundled next to it.
for (const extra of ['lib/proxy-worker', 'memory-child']) {
  if (existsSync(join(root, 'bench', `${extra}.ts`))) await bundleBench(extra);
}
// `--cpu-prof` profiles the benchmark process itself (V8 profile in .tmp/prof/, summarize it
// with `node bench/lib/profile-summary.mjs <file>`).
const profile = args.includes('--cpu-prof');
const nodeArgs = ['--expose-gc', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', join(root, '.tmp', 'prof')] : [])];
const child = spawn(process.execPath, [...nodeArgs, outfile, ...args.filter((a) => a !== '--cpu-prof')], { stdio: 'inherit', cwd: root });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
