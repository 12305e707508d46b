/** Types for example-code-params.mjs, for the tests that import it. */

/** Zip name -> the template whose code parameter it fills. */
export declare const TEMPLATES: Readonly<Record<string, string>>;

/** Zip name -> the template parameter that takes its S3 key (`CodeS3Key` or `MonitorCodeS3Key`). */
export declare const KEY_PARAMETERS: Readonly<Record<string, string>>;

/** The S3 key (named after the zip's SHA-256) and the template parameter values for one zip. */
export declare function codeParameters(input: { readonly zipName: string; readonly sha256: string; readonly bucket: string; readonly prefix: string }): {
  readonly CodeS3Bucket: string;
  readonly [keyParameter: string]: string;
};
