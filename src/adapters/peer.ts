/**
 * Loading the optional client packages (ioredis, memjs) on demand, in every way users ship the
 * library: installed in node_modules, bundled into CommonJS, or bundled into ESM.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ClientLoadError } from '../errors.js';

/** The line an ESM bundle needs at its top so bundled CommonJS code can `require`. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

const DOC = 'docs/deploy.md, "Bundling as ESM"';

/** Set while a load lends `require` to the global scope; counts overlapping loads. */
let lending = 0;

/**
 * ioredis and memjs are CommonJS and `require` Node built-ins when their module runs. esbuild's
 * ESM output serves those calls only if a `require` is in scope, and throws "Dynamic require of
 * ... is not supported" otherwise. Its check looks up `require` in the global scope at call time,
 * so lending one for the duration of the (lazy) module initialisation makes a plain ESM bundle
 * work without the `createRequire` banner. Both packages require only at initialisation, so
 * the global goes away once the import settles. Where a `require` is already in scope
 * (CommonJS, an ESM bundle with the banner, Node's own loader) the lent one is shadowed and
 * unused. It is lent unconditionally: esbuild rewrites a `typeof require` test in this file,
 * and a failed initialisation cannot be retried (the bundled module keeps its partial exports).
 */
async function withRequire<T>(load: () => Promise<T>): Promise<T> {
  if ('require' in globalThis) return load();
  const scope: { require?: NodeJS.Require } = globalThis;
  // Lambda runs the bundle from its working directory (/var/task): externals resolve from there.
  scope.require = createRequire(join(process.cwd(), 'index.js'));
  lending++;
  try {
    return await load();
  } finally {
    if (--lending === 0) delete scope.require;
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}

/**
 * The error for a failed load, telling the cause apart: a package that is not installed, a
 * bundle that cannot serve `require`, or anything else (reported as is).
 *
 * @param packageName the package that failed, e.g. `ioredis`
 * @param option the option that needs it, e.g. `redisAdapter.url`
 */
export function clientLoadError(packageName: string, option: string, cause: unknown): ClientLoadError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = codeOf(cause);
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  // A package that is installed can still fail to find one of its own dependencies.
  if (notFound && (message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`))) {
    return new ClientLoadError(
      `${option}: needs the optional peer dependency ${packageName}, which is not installed (npm install ${packageName}), or pass { client }`,
      { packageName, missing: true },
      { cause },
    );
  }
  const dynamic = /Dynamic require of "([^"]+)" is not supported/.exec(message);
  if (dynamic !== null) {
    return new ClientLoadError(
      `${option}: ${packageName} is installed but could not load in this bundle (${message}); fix your bundle: ` +
        `an ESM bundle of CommonJS packages needs a require. Add the banner ${JSON.stringify(ESM_REQUIRE_BANNER)}: ` +
        `esbuild --format=esm --banner:js="${ESM_REQUIRE_BANNER}"; ` +
        `CDK NodejsFunction bundling: { format: OutputFormat.ESM, banner: "${ESM_REQUIRE_BANNER}" }; ` +
        `SAM Metadata: BuildProperties: { Format: esm, Banner: ["js=${ESM_REQUIRE_BANNER}"] }; ` +
        `or bundle as CommonJS. See ${DOC}`,
      { packageName, missing: false },
      { cause },
    );
  }
  return new ClientLoadError(
    `${option}: ${packageName} failed to load: ${message}; fix your bundle or installation (see ${DOC})`,
    { packageName, missing: false },
    { cause },
  );
}

/**
 * Import an optional client package, serving its `require` calls inside an ESM bundle, and
 * turn a failure into a {@link ClientLoadError} naming the actual cause.
 */
export async function loadPeer<T>(packageName: string, option: string, load: () => Promise<T>): Promise<T> {
  try {
    return await withRequire(load);
  } catch (cause) {
    throw clientLoadError(packageName, option, cause);
  }
}
