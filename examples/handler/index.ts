/**
 * Example Lambda handler for `examples/cloudformation/stack.yaml`: applies DynamoDB stream
 * records for `User` items to an ElastiCache Valkey/Redis cache.
 *
 * Copy this folder into your project and change the rules in `rules.ts` to your entities. Bundle it
 * with `npm run package:example` (in this repository) or esbuild (see docs/deploy.md).
 *
 * Environment (set by the template):
 * - `TABLE_NAME`: the table whose records the rules apply to.
 * - `CACHE_ENDPOINT`: `host:port` of the cache.
 * - `CACHE_CLUSTER`: `true` for cluster-protocol endpoints (ElastiCache Serverless), `false`
 *   for a cluster-mode-disabled replication group. Default `true`.
 * - `CACHE_SECRET_ARN`: Secrets Manager secret holding `{"username","password"}` of the
 *   cache's RBAC user. Read once per cold start. Omit only for a cache without auth.
 * - `CACHE_TLS`: `true` (default). `false` exists for a local cache without TLS, never for
 *   ElastiCache: both templates require TLS.
 *
 * Needs `@aws-sdk/client-secrets-manager` to type-check (a dev dependency): the bundle leaves it
 * to the Lambda runtime, which ships it.
 *
 * Why the password is fetched here and not passed in an environment variable: environment
 * variables are readable by anyone allowed `lambda:GetFunctionConfiguration` and show in the
 * console, while the secret stays behind `secretsmanager:GetSecretValue` on one ARN, and a
 * rotated password is picked up by the next cold start without a redeploy.
 *
 * @module
 */
import { GetSecretValueCommand, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { createStreamHandler, type StreamHandlerConfig } from 'ddb-cache-sync';
import { redisAdapter } from 'ddb-cache-sync/redis';
import { userRules } from './rules.js';

/** Cache connection settings read from the environment. */
export interface CacheSettings {
  readonly table: string;
  readonly endpoint: string;
  readonly cluster: boolean;
  readonly tls: boolean;
  readonly secretArn: string | undefined;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`${name} must be "true" or "false", got ${JSON.stringify(value)}`);
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set; the CloudFormation template sets it`);
  return value;
}

/** Read and check the settings; throws naming the variable to fix. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): CacheSettings {
  const endpoint = required(env, 'CACHE_ENDPOINT');
  if (!/^[^\s:/@]+:\d+$/.test(endpoint)) throw new Error(`CACHE_ENDPOINT must be host:port, got ${JSON.stringify(endpoint)}`);
  const secretArn = env['CACHE_SECRET_ARN'];
  return {
    table: required(env, 'TABLE_NAME'),
    endpoint,
    cluster: flag(env, 'CACHE_CLUSTER', true),
    tls: flag(env, 'CACHE_TLS', true),
    secretArn: secretArn === undefined || secretArn === '' ? undefined : secretArn,
  };
}

/** The username and password of the cache's RBAC user. */
export interface CacheCredentials {
  readonly username: string;
  readonly password: string;
}

// Without these the SDK waits on a connection that cannot open (no NAT gateway, no VPC endpoint)
// until the Lambda timeout; with them the first invocation fails in seconds, saying why.
const SECRETS_CONNECT_TIMEOUT_MS = 2_000;
const SECRETS_REQUEST_TIMEOUT_MS = 3_000;
const SECRETS_MAX_ATTEMPTS = 2;
// The whole read, retries included. The runtime's SDK version decides how the per-request
// timeouts behave (newer ones only warn on requestTimeout unless throwOnRequestTimeout is set),
// so this abort is what bounds the wait on every version.
const SECRETS_DEADLINE_MS = 8_000;

// What a missing route looks like from inside the VPC: no TCP connection, or no DNS answer.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH']);

function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return error.name === 'TimeoutError' || error.name === 'AbortError' || (typeof code === 'string' && UNREACHABLE_CODES.has(code));
}

/**
 * Fetch the cache credentials from Secrets Manager. The client is not bundled: the Lambda
 * runtime ships SDK v3, and a static import becomes a plain `require` in the CommonJS bundle,
 * which finds the runtime's copy (a dynamic `import()` might not). `clientConfig` is for tests
 * (a local endpoint); the timeouts stay unless it overrides them.
 */
export async function readCredentials(secretArn: string, clientConfig: SecretsManagerClientConfig = {}): Promise<CacheCredentials> {
  const client = new SecretsManagerClient({
    maxAttempts: SECRETS_MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: SECRETS_CONNECT_TIMEOUT_MS, requestTimeout: SECRETS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    ...clientConfig,
  });
  try {
    let SecretString: string | undefined;
    try {
      ({ SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }), { abortSignal: AbortSignal.timeout(SECRETS_DEADLINE_MS) }));
    } catch (cause) {
      if (isUnreachable(cause)) {
        throw new Error(
          `cannot reach Secrets Manager to read CACHE_SECRET_ARN ${secretArn} (${cause instanceof Error ? cause.message : String(cause)}): ` +
            "the function's subnets need a route to it, a NAT gateway or an interface VPC endpoint for secretsmanager " +
            '(the template creates one with CreateSecretsManagerEndpoint=true), and its security group must allow HTTPS (443) to it',
          { cause },
        );
      }
      const name = cause instanceof Error ? cause.name : 'Error';
      throw new Error(`reading CACHE_SECRET_ARN ${secretArn} from Secrets Manager failed: ${name}: ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
      });
    }
    const shapeError = new Error(`secret ${secretArn} must be JSON with string "username" and "password"`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(SecretString ?? 'null');
    } catch {
      // JSON.parse's message quotes the input, which here is the password: keep it out of logs.
      throw shapeError;
    }
    if (typeof parsed === 'object' && parsed !== null && 'username' in parsed && 'password' in parsed) {
      const { username, password } = parsed;
      if (typeof username === 'string' && typeof password === 'string') return { username, password };
    }
    throw shapeError;
  } finally {
    client.destroy();
  }
}

/** `rediss://user:password@host:port`, credentials URL-encoded. */
export function cacheUrl(settings: Pick<CacheSettings, 'endpoint' | 'tls'>, credentials?: CacheCredentials): string {
  const auth = credentials === undefined ? '' : `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`;
  return `${settings.tls ? 'rediss' : 'redis'}://${auth}${settings.endpoint}`;
}

/** The handler config: settings from the environment, the password from Secrets Manager. */
export async function loadConfig(): Promise<StreamHandlerConfig> {
  const settings = settingsFromEnv();
  const credentials = settings.secretArn === undefined ? undefined : await readCredentials(settings.secretArn);
  return {
    adapter: redisAdapter({ url: cacheUrl(settings, credentials), cluster: settings.cluster }),
    rules: userRules(settings.table),
  };
}

/**
 * The Lambda entry point (`index.handler`). The config is loaded on the first invocation (the
 * secret fetch is async and a CommonJS bundle has no top-level await) and the connection is
 * reused across invocations. If setup fails (secret unreadable, bad settings) the invocation
 * fails, Lambda retries the batch, and the next invocation sets up again.
 */
export const handler = createStreamHandler(loadConfig);
