#!/usr/bin/env node
// Consistency checker entry point:
//   node bench/consistency/run.mjs --ops 1000000 --backend memory|redis|redis-cluster|memcached|all
// Bundles main.ts with esbuild (Node 20 cannot run TypeScript) into a temp dir under
// node_modules/.cache, so the bundle's bare imports resolve to this package's dependencies.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, '..', '..', 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, 'consistency-'));
let code = 1;
try {
  const file = join(out, 'main.mjs');
  await build({
    entryPoints: [join(here, 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: file,
    packages: 'external',
    logLevel: 'warning',
  });
  const { main } = await import(pathToFileURL(file).href);
  code = await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  code = 2;
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(code);
