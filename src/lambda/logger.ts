/**
 * Logging: a Powertools-compatible interface and a default that writes one JSON line per
 * entry. Nothing from items (values, keys) is logged unless `debugLogItemContents` is on.
 *
 * @module
 */
import { keyHash } from '../core/key-hash.js';

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

/**
 * Cache keys named by `error` or its causes (`CacheCommandError.key`, `ValueTooLargeError.key`).
 * Adapters quote the key in their messages so a developer reading the error knows which one;
 * keys are built from item data (an email), so log lines must not carry them.
 */
function cacheKeysNamedBy(error: Error): string[] {
  const keys: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const key = (current as Error & { key?: unknown }).key;
    if (typeof key === 'string' && key !== '') keys.push(key);
    current = current.cause;
  }
  return keys;
}

function redactKeys(message: string, keys: readonly string[]): string {
  // Quoted forms first (JSON escapes quotes and control characters), then raw, then the
  // 200-character prefix some adapters print for long keys; longest first.
  const forms = new Set<string>();
  for (const key of keys) {
    forms.add(JSON.stringify(key));
    forms.add(key);
    if (key.length > 200) forms.add(key.slice(0, 200));
  }
  let out = message;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join('<key>');
  return out;
}

/**
 * Serialize an error for a log line: name, message and our typed context, never `cause` values
 * and never cache keys (redacted from the message as `<key>`).
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: 'NonError' };
  const keys = cacheKeysNamedBy(error);
  // Messages no longer carry keys (they name them as key#<hash>); the redaction stays as a
  // second line of defence for errors from user code that quote a key.
  const out: Record<string, unknown> = { name: error.name, message: redactKeys(error.message, keys) };
  // The structured key is for application code; the log line gets its hash, for correlation.
  if (keys[0] !== undefined) out['keyHash'] = keyHash(keys[0]);
  for (const field of ['sequenceNumber', 'rule', 'field', 'adapter', 'command']) {
    const value = (error as unknown as Record<string, unknown>)[field];
    // Only our typed string/number context: a raw client error's `command` is an object holding
    // the command's arguments (key and value).
    if (typeof value === 'string' || typeof value === 'number') out[field] = value;
  }
  return out;
}

/**
 * The default logger: `{"level","message","timestamp",...}` JSON lines on stdout, at the level
 * named by `AWS_LAMBDA_LOG_LEVEL` or `LOG_LEVEL` (default INFO).
 */
export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const threshold = levelFromEnv();
  const log =
    (level: Level) =>
    (message: string, ...extra: Record<string, unknown>[]) => {
      if (LEVELS[level] < threshold) return;
      write(JSON.stringify(Object.assign({ level, message, timestamp: new Date().toISOString(), service: 'ddb-cache-sync' }, ...extra)));
    };
  return { debug: log('DEBUG'), info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

/** A logger that drops everything (`logger: false`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
