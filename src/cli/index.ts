#!/usr/bin/env node
/**
 * `ddb-cache-sync` command line: small tools for operators and newcomers.
 * Each subcommand lives in its own module exporting `run(argv): Promise<number>` (exit code),
 * loaded only when called so one command's dependencies never load for another.
 *
 * @module
 */

const commands: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
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
  return `usage: ddb-cache-sync <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'ddb-cache-sync <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
