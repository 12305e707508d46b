#!/usr/bin/env node
// `npm run demo`: runs examples/demo/demo.ts straight from the TypeScript sources, so a fresh
// clone needs only `npm ci`. esbuild (a dev dependency) bundles the demo with every
// `ddb-cache-sync/...` import pointed at ../../src; other packages load from node_modules.
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const entries = {
  'ddb-cache-sync': 'src/index.ts',
  'ddb-cache-sync/local': 'src/local/index.ts',
  'ddb-cache-sync/redis': 'src/adapters/redis/index.ts',
  'ddb-cache-sync/memcached': 'src/adapters/memcached/index.ts',
};
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
  plugins: [
    {
      name: 'ddb-cache-sync-from-source',
      setup(b) {
        b.onResolve({ filter: /^ddb-cache-sync(\/[a-z]+)?$/ }, (args) => {
          const file = entries[args.path];
          return file === undefined ? undefined : { path: join(root, file) };
        });
        // Everything else that is not a relative path is a package: leave it to Node.
        b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
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
