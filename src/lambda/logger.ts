/**
 * Logging: a Powertools-compatible interface and a default that writes one JSON line per
 * entry. Nothing from items (values, keys) is logged unless `debugLogItemContents` is on.
 *
 * @module
 */

/** The subset of Powertools' Logger the library calls. */
export interface Logger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 } as const;
type Level = keyof typeof LEVELS;

function levelFromEnv(): number {
  // AWS_LAMBDA_LOG_LEVEL is set by Lambda's advanced logging controls; LOG_LEVEL is Powertools'.
  const name = (process.env['AWS_LAMBDA_LOG_LEVEL'] ?? process.env['LOG_LEVEL'] ?? 'INFO').toUpperCase();
  return name in LEVELS ? LEVELS[name as Level] : LEVELS.INFO;
}

/** Serialize an error for a log line: name, message and our typed context, never `cause` values. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: 'NonError' };
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  for (const field of ['sequenceNumber', 'rule', 'field', 'adapter', 'command']) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/**
 * The default logger: `{"level","message","timestamp",...}` JSON lines on stdout, at the level
 * named by `AWS_LAMBDA_LOG_LEVEL` or `LOG_LEVEL` (default INFO).
 */
export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const threshold = levelFromEnv();
  const log = (level: Level) => (message: string, ...extra: Record<string, unknown>[]) => {
    if (LEVELS[level] < threshold) return;
    write(JSON.stringify(Object.assign({ level, message, timestamp: new Date().toISOString(), service: 'ddb-cache-sync' }, ...extra)));
  };
  return { debug: log('DEBUG'), info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

/** A logger that drops everything (`logger: false`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
