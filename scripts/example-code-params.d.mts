/** Types for example-code-params.mjs, for the tests that import it. */

/** Zip name -> the template whose `CodeS3Key` it fills. */
export declare const TEMPLATES: Readonly<Record<string, string>>;

/** The S3 key (named after the zip's SHA-256) and the template parameter values for one zip. */
export declare function codeParameters(input: {
  readonly zipName: string;
  readonly sha256: string;
  readonly bucket: string;
  readonly prefix: string;
}): { CodeS3Bucket: string; CodeS3Key: string };
