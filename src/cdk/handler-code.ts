/**
 * The function's code: an entry file bundled by `NodejsFunction` (ESM, with the banner that
 * lets bundled CommonJS clients call `require`), or a code asset the user built.
 *
 * @module
 */
import type { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';

/**
 * ioredis and memjs are CommonJS and call `require()` for Node built-ins. An ESM bundle has no
 * `require`; this banner defines one before any bundled module runs.
 *
 * @example
 * ```ts
 * new NodejsFunction(this, 'Fn', { entry, bundling: { format: OutputFormat.ESM, banner: ESM_REQUIRE_BANNER } });
 * ```
 */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * Where the function's code comes from.
 *
 * `entry` is bundled at synth time by `NodejsFunction`, which needs the `esbuild` package in
 * your app (`npm install -D esbuild`) or, failing that, Docker. The construct sets the ESM
 * format, the `createRequire` banner and `mainFields`; other `bundling` options are yours
 * (defaults: minified, `@aws-sdk/client-*` external, everything else bundled).
 *
 * @example
 * ```ts
 * const bundled: HandlerCode = { entry: 'src/cache-sync.ts' };
 * const prebuilt: HandlerCode = { code: lambda.Code.fromAsset('dist/cache-sync'), handler: 'index.handler' };
 * ```
 */
export type HandlerCode =
  | {
      readonly entry: string;
      /** Exported function name. Default `handler`. */
      readonly handler?: string;
      /** Extra esbuild options; `format`, `banner` and `mainFields` are set by the construct. */
      readonly bundling?: Omit<nodejs.BundlingOptions, 'format' | 'banner' | 'mainFields'>;
      /** Lock file that marks the project root. Default: found upwards from the working directory. */
      readonly depsLockFilePath?: string;
    }
  | {
      readonly code: lambda.Code;
      /** `file.export`. Default `index.handler`. */
      readonly handler?: string;
    };

/** Function settings the construct does not decide alone. */
export interface FunctionOptions {
  /** Default Node.js 24. */
  readonly runtime?: lambda.Runtime;
  /** Default ARM64. */
  readonly architecture?: lambda.Architecture;
  /** Default 256 MB. */
  readonly memorySize?: number;
  /** A timed-out batch counts as failed and is retried. Default 30 seconds. */
  readonly timeout?: Duration;
  /** Added to the variables the construct sets (`TABLE_NAME`, the cache's). */
  readonly environment?: Readonly<Record<string, string>>;
}

/** Everything about the function that the construct has already decided. */
export type FunctionBase = Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime'>;

/**
 * Build the function from the handler code and the settings the construct chose.
 *
 * @example
 * ```ts
 * const fn = createCacheSyncFunction(this, { entry: 'src/cache-sync.ts' }, lambda.Runtime.NODEJS_24_X, base);
 * ```
 */
export function createCacheSyncFunction(scope: Construct, code: HandlerCode, runtime: lambda.Runtime, base: FunctionBase): lambda.Function {
  if ('code' in code) {
    return new lambda.Function(scope, 'Function', { ...base, runtime, code: code.code, handler: code.handler ?? 'index.handler' });
  }
  return new nodejs.NodejsFunction(scope, 'Function', {
    ...base,
    runtime,
    entry: code.entry,
    handler: code.handler ?? 'handler',
    ...(code.depsLockFilePath === undefined ? {} : { depsLockFilePath: code.depsLockFilePath }),
    bundling: {
      minify: true,
      sourceMap: false,
      // Clients come from the runtime's SDK; small utilities such as @aws-sdk/util-dynamodb
      // are bundled, since the runtime's copy may be older than the library needs.
      externalModules: ['@aws-sdk/client-*'],
      ...code.bundling,
      format: nodejs.OutputFormat.ESM,
      banner: ESM_REQUIRE_BANNER,
      // Prefer the ESM build of dependencies that ship both.
      mainFields: ['module', 'main'],
    },
  });
}
