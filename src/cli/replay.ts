/**
 * `ddb-cache-sync replay`: feed a captured Lambda event file through a handler config, against
 * the cache the config names, and print each record's commands and what happened. With
 * `--dry-run`, print the planned commands without touching the cache.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { planCommands, type PlannedRecord } from '../core/plan.js';
import { createStreamProcessor, type ProcessResult } from '../lambda/handler.js';
import { validateConfig, type StreamHandlerConfig } from '../lambda/config.js';
import { ConfigError } from '../errors.js';

/** Where the command writes. Tests pass collectors; the CLI uses the console. */
export interface ReplayIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: ReplayIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/**
 * An event source the replay command understands. Only DynamoDB Streams events are replayed:
 * Kinesis Data Streams events are handled on Lambda by `createKinesisStreamHandler`, but
 * `replay` has no source for them yet (it would be one more entry in `sources`).
 */
interface ReplaySource {
  /** Shown in output, e.g. `DynamoDB Streams`. */
  readonly name: string;
  /** Whether a record belongs to this source (by its `eventSource`). */
  matches(record: unknown): boolean;
  /** Plan without executing. */
  plan(config: StreamHandlerConfig, records: readonly unknown[]): PlannedRecord[];
  /** Execute like the Lambda handler would. */
  process(config: StreamHandlerConfig, event: { Records: unknown[] }): Promise<ProcessResult>;
}

const eventSourceOf = (record: unknown): unknown =>
  typeof record === 'object' && record !== null ? (record as { eventSource?: unknown }).eventSource : undefined;

const sources: readonly ReplaySource[] = [
  {
    name: 'DynamoDB Streams',
    matches: (record) => eventSourceOf(record) === 'aws:dynamodb',
    plan: (config, records) => planCommands(records, config.rules, { ttlDeletes: config.ttlDeletes }),
    process: (config, event) => createStreamProcessor(config).process(event),
  },
];

const USAGE = `usage: ddb-cache-sync replay --event <event.json> --config <handler-config.mjs> [--dry-run]

Feeds a captured Lambda event through your handler config and prints, per record, the cache
commands and whether they applied. The event file holds a Lambda event ({ "Records": [...] })
or an array of events. The config module exports the handler config (default export or
\`config\`) or a function \`createConfig()\` returning it (may be async).

  --event <file>    the captured event (DynamoDB Streams)
  --config <file>   the config module (.mjs or .js; compile TypeScript first)
  --dry-run         print the planned commands; do not touch the cache
  --verbose         keep the config's logger and metrics output (default: quiet)`;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Load the events: `{ Records }` or an array of them. */
async function loadEvents(file: string): Promise<{ Records: unknown[] }[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ReplayUsageError(`cannot read --event ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const events = Array.isArray(parsed) ? parsed : [parsed];
  return events.map((event, i) => {
    const records = isObject(event) ? event['Records'] : undefined;
    if (!Array.isArray(records)) {
      throw new ReplayUsageError(`--event ${file}${Array.isArray(parsed) ? ` [${i}]` : ''} is not a Lambda event: expected { "Records": [...] }`);
    }
    return { Records: records as unknown[] };
  });
}

/** Load the config module and find the config in it. */
async function loadConfig(file: string): Promise<StreamHandlerConfig> {
  if (/\.(c|m)?tsx?$/.test(file)) {
    throw new ReplayUsageError(`--config ${file} is TypeScript; compile it to .mjs/.js first (or write the config as .mjs)`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ReplayUsageError(`cannot load --config ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const candidate = mod['createConfig'] ?? mod['config'] ?? mod['default'];
  const config: unknown = typeof candidate === 'function' ? await (candidate as () => unknown)() : candidate;
  if (!isObject(config) || !Array.isArray(config['rules']) || !isObject(config['adapter'])) {
    throw new ReplayUsageError(
      `--config ${file} must export the handler config { adapter, rules, ... } as default or \`config\`, or a function \`createConfig()\` returning it`,
    );
  }
  // Checked here, not first by the handler: a dry run never builds one, and a config error
  // must show as itself, not as a failed batch.
  try {
    return validateConfig(config);
  } catch (error) {
    const close = config['adapter']['close'];
    if (typeof close === 'function') await (close as () => Promise<void>).call(config['adapter']);
    throw error;
  }
}

class ReplayUsageError extends Error {}

/** What applied ahead of the first failed record, numbered across the file's events. */
function appliedBefore(offset: number, failedIndex: number): string {
  if (failedIndex === 0) return 'no record applied';
  return `records #${offset}..#${offset + failedIndex - 1} applied`;
}

function shorten(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** One line per command, whatever its kind: `set user:1 ttl=300s {...}`. */
export function describeCommand(command: unknown): string {
  if (!isObject(command)) return String(command);
  const { kind, key, value, ttlSeconds, ...rest } = command;
  const parts = [String(kind), String(key)];
  if (typeof ttlSeconds === 'number') parts.push(`ttl=${ttlSeconds}s`);
  for (const [name, extra] of Object.entries(rest)) parts.push(`${name}=${JSON.stringify(extra)}`);
  if (typeof value === 'string') parts.push(shorten(value));
  return parts.join(' ');
}

function describeRecord(record: unknown, index: number): string {
  const r = isObject(record) ? record : {};
  const dynamodb = isObject(r['dynamodb']) ? r['dynamodb'] : {};
  const keys = isObject(dynamodb['Keys']) ? dynamodb['Keys'] : {};
  const keyText = Object.entries(keys)
    .map(([name, value]) => `${name}=${isObject(value) ? String(Object.values(value)[0]) : String(value)}`)
    .join(' ');
  const ttl = isObject(r['userIdentity']) && r['userIdentity']['principalId'] === 'dynamodb.amazonaws.com' ? ' (TTL delete)' : '';
  return `#${index} ${String(r['eventName'] ?? '?')}${ttl} seq ${String(dynamodb['SequenceNumber'] ?? '?')} ${keyText}`.trimEnd();
}

function printPlan(io: ReplayIo, records: readonly unknown[], plans: readonly PlannedRecord[], offset: number): void {
  plans.forEach((plan, i) => {
    io.out(describeRecord(records[i], offset + i));
    if (plan.error !== undefined) io.out(`   invalid: ${plan.error.message}`);
    else if (plan.skipped !== undefined) io.out(`   skipped: ${plan.skipped}`);
    else if (plan.commands.length === 0) io.out('   no commands');
    for (const command of plan.commands) io.out(`   ${describeCommand(command)}`);
  });
}

/**
 * Run `replay` with the arguments after the command name. Returns the exit code: 0 when every
 * record applied (or the dry run planned without errors), 1 when a record failed or was
 * invalid, 2 for usage errors.
 *
 * @example
 * ```sh
 * npx ddb-cache-sync replay --event test/fixtures/events/user-lifecycle.json --config handler-config.mjs --dry-run
 * ```
 */
export async function run(argv: string[], io: ReplayIo = consoleIo): Promise<number> {
  let values: { event?: string; config?: string; 'dry-run'?: boolean; verbose?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        event: { type: 'string' },
        config: { type: 'string' },
        'dry-run': { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.event === undefined || values.config === undefined) {
    io.err(`replay needs --event and --config\n\n${USAGE}`);
    return 2;
  }

  let events: { Records: unknown[] }[];
  let config: StreamHandlerConfig;
  try {
    events = await loadEvents(resolve(values.event));
    config = await loadConfig(resolve(values.config));
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`--config ${values.config}: ${error.message}`);
      return 2;
    }
    if (error instanceof ReplayUsageError) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }

  const all = events.flatMap((event) => event.Records);
  const source = sources.find((s) => all.length > 0 && all.every((record) => s.matches(record)));
  if (source === undefined) {
    const seen = [...new Set(all.map((record) => JSON.stringify(eventSourceOf(record))))].join(', ');
    io.err(
      all.length === 0
        ? `--event ${values.event} has no records`
        : `--event ${values.event}: unsupported eventSource ${seen}; replay reads DynamoDB Streams events ("aws:dynamodb") only, one source per file`,
    );
    await config.adapter.close();
    return 2;
  }

  // Quiet by default: the config's JSON logs and EMF metrics would bury the summary.
  const quiet: StreamHandlerConfig = values.verbose ? config : { ...config, logger: config.logger ?? false, metrics: false };
  io.out(
    `replay: ${all.length} ${source.name} record(s) in ${events.length} event(s) from ${basename(values.event)}, ` +
      `config ${basename(values.config)} (adapter ${config.adapter.name}, ${config.rules.length} rule(s))${values['dry-run'] ? ', dry run' : ''}`,
  );

  let failed = false;
  const touched = new Set<string>();
  try {
    let offset = 0;
    for (const [n, event] of events.entries()) {
      if (events.length > 1) io.out(`\nevent ${n + 1} of ${events.length}`);
      const plans = source.plan(quiet, event.Records);
      printPlan(io, event.Records, plans, offset);
      if (values['dry-run']) {
        failed ||= plans.some((plan) => plan.error !== undefined);
      } else {
        const result = await source.process(quiet, event);
        for (const plan of result.records) for (const command of plan.commands) touched.add(command.key);
        if (event.Records.length === 0) {
          io.out('=> no records; batchItemFailures []');
        } else if (result.failedIndex === undefined) {
          io.out(`=> applied: every record; batchItemFailures []`);
        } else {
          failed = true;
          const reported = result.batchItemFailures.map((f) => f.itemIdentifier);
          io.out(
            `=> ${appliedBefore(offset, result.failedIndex)}; #${offset + result.failedIndex} and later reported for retry: batchItemFailures ${JSON.stringify(reported)}`,
          );
          const error = result.records[result.failedIndex]?.error;
          if (error !== undefined) io.out(`   because: ${error.message}`);
          else io.out(`   because: a cache command of #${offset + result.failedIndex} failed (see --verbose for the adapter error)`);
        }
      }
      offset += event.Records.length;
    }
    if (values['dry-run']) {
      io.out('\ndry run: nothing was sent to the cache');
    } else if (touched.size > 0) {
      io.out('\ncache now holds:');
      // A fold, not Math.max(...keys): a large fan-out would overflow the argument stack.
      let width = 0;
      for (const key of touched) width = Math.max(width, key.length);
      for (const key of touched) {
        let shown: string;
        try {
          const value = await config.adapter.get(key);
          shown = value === undefined ? '(absent)' : shorten(value);
        } catch (error) {
          shown = `(cannot read: ${error instanceof Error ? error.message : String(error)})`;
        }
        io.out(`  ${key.padEnd(width)}  ${shown}`);
      }
    }
  } finally {
    await config.adapter.close();
  }
  return failed ? 1 : 0;
}
