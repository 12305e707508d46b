/**
 * The esbuild settings shared by everything that bundles the library straight from its
 * TypeScript sources (no `npm run build` needed): the example-handler zips
 * (scripts/package-example.mjs), the bundle budget and cold-start benchmark
 * (bench/lib/bundles.ts) and the demo (examples/demo/run.mjs).
 *
 * @module
 */
import { join } from 'node:path';
import { LIBRARY_SOURCES } from './entries.mjs';

/**
 * An esbuild plugin that resolves `ddb-cache-sync` and its subpaths to their sources.
 * @param {string} root the repository root
 * @param {{ externalPackages?: boolean }} [options] `externalPackages`: leave every other bare
 *   import to Node, for a bundle that runs inside the project next to its node_modules
 * @returns {import('esbuild').Plugin}
 */
export function librarySourcePlugin(root, options = {}) {
  return {
    name: 'ddb-cache-sync-from-source',
    setup(builder) {
      builder.onResolve({ filter: /^ddb-cache-sync(\/.*)?$/ }, (args) => {
        const source = LIBRARY_SOURCES[args.path];
        if (source === undefined) return { errors: [{ text: `unknown ddb-cache-sync subpath ${args.path}` }] };
        return { path: join(root, source) };
      });
      if (options.externalPackages) builder.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * Options for a Lambda deployment bundle of `entry`, kept in memory (`write: false`).
 * - CommonJS, not ESM: ioredis and memjs are CommonJS and `require()` Node built-ins; bundled
 *   into an ESM file those calls fail at runtime ("Dynamic require ... is not supported").
 * - `@aws-sdk/client-*` stays external: the Lambda Node.js runtime ships SDK v3 clients.
 *   Utilities the library needs (`@aws-sdk/util-dynamodb`) are bundled: the runtime's SDK copy
 *   may be older than the version this library needs.
 * @param {string} root the repository root
 * @param {string} entry the handler source, relative to `root`
 * @returns {import('esbuild').BuildOptions & { write: false }}
 */
export function lambdaBundleOptions(root, entry) {
  return {
    entryPoints: [join(root, entry)],
    absWorkingDir: root,
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    external: ['@aws-sdk/client-*'],
    plugins: [librarySourcePlugin(root)],
  };
}
