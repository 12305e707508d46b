/** Types for cdk-synth.mjs, for the tests that import it. */

/** Bundle examples/cdk/app.ts and run it; resolves to the cloud assembly directory. */
export declare function synthExample(outdir?: string): Promise<string>;
