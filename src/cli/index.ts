#!/usr/bin/env node
/**
 * `ddb-cache-sync` command line: small tools for operators and newcomers. Each subcommand lives
 * in its own module exporting `run(argv): Promise<number>` (exit code), loaded only when called
 * so one command's dependencies never load for another. The logic is in `main.ts`.
 *
 * @module
 */
import { main } from './main.js';

// No top-level await: the build also emits a CommonJS copy of this entry.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
