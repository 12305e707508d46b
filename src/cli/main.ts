/**
 * The `ddb-cache-sync` command line without the process around it: parses the command name,
 * answers `--help` and `--version`, and dispatches to a subcommand. `index.ts` runs it.
 *
 * Exit codes (documented in docs/local.md): 0 success, 1 the command ran and failed (a record
 * failed, an unexpected error), 2 usage (unknown command or option, missing or unreadable input).
 *
 * @module
 */
import { packageVersion } from './package-root.js';
import type { ReplayIo } from './replay.js';

/** Where the command line writes. Tests pass collectors; the CLI uses the console. */
export type CliIo = ReplayIo;

const consoleIo: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const commands: Record<string, { summary: string; load: () => Promise<{ run(argv: string[], io?: CliIo): Promise<number> }> }> = {
  'init-stack': {
    summary: 'write the example CloudFormation templates to a folder',
    load: () => import('./init-stack.js'),
  },
  replay: {
    summary: 'feed a captured Lambda event file through a handler config',
    load: () => import('./replay.js'),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return [
    'usage: ddb-cache-sync <command> [options]',
    '       ddb-cache-sync --version | --help',
    '',
    'commands:',
    ...lines,
    '',
    "Run 'ddb-cache-sync <command> --help' for a command's options.",
    'Exit codes: 0 success, 1 failure, 2 usage error.',
  ].join('\n');
}

/** Run the command line; resolves to the exit code and never throws. */
export async function main(argv: readonly string[], io: CliIo = consoleIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === '-V') {
    io.out(packageVersion());
    return EXIT_OK;
  }
  if (name === '--help' || name === '-h') {
    io.out(usage());
    return EXIT_OK;
  }
  if (name === undefined) {
    io.err(usage());
    return EXIT_USAGE;
  }
  const command = commands[name];
  if (command === undefined) {
    io.err(`${name.startsWith('-') ? 'unknown option' : 'unknown command'} ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  try {
    return await (await command.load()).run(rest, io);
  } catch (error) {
    // One line that names the problem; a stack trace would bury it (DDB_CACHE_SYNC_DEBUG=1 shows it).
    io.err(`ddb-cache-sync ${name}: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env['DDB_CACHE_SYNC_DEBUG'] === '1' && error instanceof Error && error.stack !== undefined) io.err(error.stack);
    return EXIT_FAILURE;
  }
}
