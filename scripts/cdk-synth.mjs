#!/usr/bin/env node
/**
 * Synthesizes the CDK example (examples/cdk/app.ts) into examples/cdk/cdk.out/, with no AWS
 * credentials (the stack is environment-agnostic) and no Docker (NodejsFunction bundles the
 * handler with the local esbuild). There is no TypeScript runner here: esbuild bundles the app
 * from source (`ddb-cache-sync/cdk` resolves to src/cdk) into a temporary module, which node runs.
 *
 * Usage: node scripts/cdk-synth.mjs [--out <dir>]
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundle the app and run it; returns the cloud assembly directory.
 * @param {string} outdir where the cloud assembly goes
 * @returns {Promise<string>}
 */
export async function synthExample(outdir = join(root, 'examples', 'cdk', 'cdk.out')) {
  const work = join(root, '.tmp', 'cdk-synth');
  await mkdir(work, { recursive: true });
  const app = join(work, 'app.mjs');
  await build({
    entryPoints: [join(root, 'examples', 'cdk', 'app.ts')],
    outfile: app,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // aws-cdk-lib loads its own files (assets, custom resource code) from its package: keep it
    // and constructs in node_modules. The library itself is bundled from src via tsconfig paths.
    external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
    tsconfig: join(root, 'tsconfig.json'),
    logLevel: 'warning',
  });
  await rm(outdir, { recursive: true, force: true });
  // The app runs from the repository root, so the handler entry and package-lock.json (the
  // NodejsFunction project root) are found; CDK_OUTDIR is where App writes the assembly.
  const result = spawnSync(process.execPath, [app], {
    cwd: root,
    env: { ...process.env, CDK_OUTDIR: outdir },
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`CDK synth failed (exit ${result.status ?? result.signal})`);
  return outdir;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const out = at >= 0 && process.argv[at + 1] !== undefined ? resolve(process.argv[at + 1]) : undefined;
  const dir = await synthExample(out);
  console.log(`synthesized ${join(dir, 'DdbCacheSyncExample.template.json')}`);
}
