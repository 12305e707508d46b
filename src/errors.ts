/**
 * Every error this library throws or reports. One base class, a flat list of subclasses with
 * typed context fields, `cause` kept.
 *
 * @module
 */
import { describeKey } from './core/key-hash.js';

/** Base class: `instanceof DdbCacheSyncError` catches everything the library raises. */
export class DdbCacheSyncError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DdbCacheSyncError';
  }
}

/** The handler configuration is invalid. Thrown by `createStreamHandler` at cold start. */
export class ConfigError extends DdbCacheSyncError {
  /** Each problem as `path: message`. */
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`Invalid ddb-cache-sync config: ${issues.join('; ')}`, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Context carried by {@link InvalidRecordError}. */
export interface InvalidRecordContext {
  /** The record's stream sequence number, or `undefined` when the record has none. */
  readonly sequenceNumber: string | undefined;
  /** The record's position in the batch. */
  readonly index: number;
  /** The rule's name (or `rules[i]`) when the problem is specific to a rule. */
  readonly rule?: string | undefined;
  /** The record field or item attribute at fault, e.g. `dynamodb.NewImage` or `email`. */
  readonly field?: string | undefined;
}

/**
 * A stream record could not be turned into cache commands: malformed, missing what a rule
 * needs, or a rule function threw. Reported per `onInvalidRecord`; never thrown out of the handler.
 */
export class InvalidRecordError extends DdbCacheSyncError {
  readonly sequenceNumber: string | undefined;
  readonly index: number;
  readonly rule: string | undefined;
  readonly field: string | undefined;
  constructor(reason: string, context: InvalidRecordContext, options?: { cause?: unknown }) {
    const where = [
      `record ${context.sequenceNumber ?? `#${context.index} (no SequenceNumber)`}`,
      context.rule === undefined ? undefined : `rule ${context.rule}`,
      context.field === undefined ? undefined : `field ${context.field}`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(`${where}: ${reason}`, options);
    this.name = 'InvalidRecordError';
    this.sequenceNumber = context.sequenceNumber;
    this.index = context.index;
    this.rule = context.rule;
    this.field = context.field;
  }
}

/** A cache command failed or its outcome is unknown. */
export class CacheCommandError extends DdbCacheSyncError {
  readonly key: string;
  readonly command: string;
  constructor(message: string, context: { key: string; command: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheCommandError';
    this.key = context.key;
    this.command = context.command;
  }
}

/** The cache could not be reached (connect failure, timeout, connection lost). */
export class CacheUnavailableError extends DdbCacheSyncError {
  readonly adapter: string;
  constructor(message: string, context: { adapter: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheUnavailableError';
    this.adapter = context.adapter;
  }
}

/** A value is too large for the cache server (e.g. Memcached's item size limit). */
export class ValueTooLargeError extends DdbCacheSyncError {
  readonly key: string;
  readonly bytes: number;
  readonly limit: number;
  constructor(context: { key: string; bytes: number; limit: number }) {
    super(
      `value for ${describeKey(context.key)} is ${context.bytes} bytes, over the server limit of ${context.limit} bytes; project fewer attributes (rule.attributes) or raise the server's item size limit`,
    );
    this.name = 'ValueTooLargeError';
    this.key = context.key;
    this.bytes = context.bytes;
    this.limit = context.limit;
  }
}

/**
 * An optional client package (ioredis, memjs) could not be loaded. `missing` tells a package
 * that is not installed apart from one that is installed but failed to load (most often a
 * bundle that cannot serve its `require` calls); the message names the fix for each.
 */
export class ClientLoadError extends ConfigError {
  /** The package that failed to load, e.g. `ioredis`. */
  readonly packageName: string;
  /** `true` only when the package itself was not found. */
  readonly missing: boolean;
  constructor(issue: string, context: { packageName: string; missing: boolean }, options?: { cause?: unknown }) {
    super([issue], options);
    this.name = 'ClientLoadError';
    this.packageName = context.packageName;
    this.missing = context.missing;
  }
}
