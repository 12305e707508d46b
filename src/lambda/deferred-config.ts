/**
 * Handlers whose config is only known after async work (fetching a secret): set up on the
 * first invocation, because a CommonJS Lambda bundle has no top-level await.
 *
 * @module
 */
import { ConfigError } from '../errors.js';
import type { StreamHandlerConfig } from './config.js';
import { createJsonLogger, describeError, type Logger } from './logger.js';

/**
 * Builds the handler config on the first invocation, e.g. after reading a secret. May return
 * the config or a promise of it.
 */
export type StreamHandlerConfigLoader = () => StreamHandlerConfig | PromiseLike<StreamHandlerConfig>;

type Handler<TEvent, TResult> = (event: TEvent, context?: unknown) => Promise<TResult>;

/**
 * A handler that loads its config on the first invocation and builds the real handler from
 * it, once: concurrent first invocations share the one setup. A failed setup fails the
 * invocations waiting on it and is forgotten, so the next invocation tries again (a secret
 * that was unreadable for a moment does not poison the execution environment).
 */
export function deferUntilConfigured<TEvent, TResult>(
  load: StreamHandlerConfigLoader,
  build: (config: StreamHandlerConfig) => Handler<TEvent, TResult>,
  logger: Logger = createJsonLogger(),
): Handler<TEvent, TResult> {
  let ready: Promise<Handler<TEvent, TResult>> | undefined;
  const setUp = async (): Promise<Handler<TEvent, TResult>> => build(await load());
  return async (event, context) => {
    ready ??= setUp().catch((error: unknown) => {
      ready = undefined;
      // Logged apart from cache failures: retrying will not help until the config or what it
      // reads (a secret, an environment variable) is fixed.
      logger.error(
        'configuration error: the handler could not be set up; failing this invocation so Lambda retries the batch, and setting up again on the next one',
        {
          configError: true,
          invalidConfig: error instanceof ConfigError,
          error: describeError(error),
        },
      );
      throw error;
    });
    const handle = await ready;
    return handle(event, context);
  };
}
