/** Types for entries.mjs. */
export interface EntryPoint {
  /** tsup entry name: dist/<name>.js, .cjs, .d.ts. */
  readonly name: string;
  /** The package.json `exports` key (`.` or `./x`), or undefined for an entry that is not imported (the CLI). */
  readonly subpath: string | undefined;
  /** Source file, relative to the repository root. */
  readonly source: string;
}
export declare const ENTRY_POINTS: readonly EntryPoint[];
/** `ddb-cache-sync/<subpath>` -> source, for every exported entry. */
export declare const LIBRARY_SOURCES: Readonly<Record<string, string>>;
