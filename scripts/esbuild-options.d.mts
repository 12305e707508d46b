/** Types for esbuild-options.mjs, for the TypeScript that imports it. */
import type { BuildOptions, Plugin } from 'esbuild';

export { LIBRARY_SOURCES } from './entries.mjs';

/** An esbuild plugin that resolves `ddb-cache-sync` and its subpaths to their sources under `root`. */
export declare function librarySourcePlugin(root: string, options?: { readonly externalPackages?: boolean }): Plugin;

/** Options for a minified CommonJS Lambda bundle of `entry` (relative to `root`), kept in memory. */
export declare function lambdaBundleOptions(root: string, entry: string): BuildOptions & { write: false };
