#!/usr/bin/env node
// `npm run demo`: runs examples/demo/demo.ts straight from the TypeScript sources, so a fresh
// clone needs only `npm ci`. esbuild (a dev dependency) bundles the demo with every
// `ddb-cache-sync/...` import pointed at ../../src; other packages load from node_modules.
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { librarySourcePlugin } from '../../scripts/esbuild-options.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the project, so the bundle's bare imports resolve from node_modules; one file per
// process, so two demos (or a demo and its test) never overwrite each other's bundle.
const outfile = join(root, 'node_modules', '.cache', 'ddb-cache-sync-demo', `demo-${process.pid}.mjs`);
mkdirSync(dirname(outfile), { recursive: true });

await build({
  entryPoints: [join(root, 'examples/demo/demo.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  plugins: [librarySourcePlugin(root, { externalPackages: true })],
});

let main;
try {
  ({ main } = await import(pathToFileURL(outfile).href));
} finally {
  rmSync(outfile, { force: true });
}
try {
  process.exitCode = await main(process.argv.slice(2), root);
} catch (error) {
  // The demo's own failures carry messages that say what to do; a stack trace would bury them.
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
