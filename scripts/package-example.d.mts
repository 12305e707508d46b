/** Types for package-example.mjs, for the tests that import it. */

/** The handlers to package: source entry (relative to the repository root) -> zip name. */
export declare const EXAMPLES: readonly { readonly entry: string; readonly zip: string }[];

/** Bundle one handler to a single CommonJS string. */
export declare function bundleHandler(entry: string, options?: { readonly format?: 'cjs' | 'esm'; readonly banner?: string }): Promise<string>;

/** Build a zip archive (deflate, fixed timestamps, mode 0644). */
export declare function zip(files: readonly { readonly name: string; readonly data: Uint8Array }[]): Buffer;

/** Bundle every example handler and write its zip into `outDir` (default `dist-example`). */
export declare function packageExamples(options?: {
  readonly outDir?: string;
}): Promise<{ entry: string; zipPath: string; bundleBytes: number; zipBytes: number }[]>;
