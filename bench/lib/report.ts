/**
 * Shared helpers of the benchmarks: statistics, the printed table, the JSON result and a
 * description of the machine the numbers came from.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory of the running bench bundle (`.tmp/bench`). */
export function benchBuildDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

/** The repository root (the bundle lives in `<root>/.tmp/bench`). */
export function repoRoot(): string {
  return resolve(benchBuildDir(), '..', '..');
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Smallest and largest value. */
export function range(values: readonly number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/** A number for a table: integers with thousands separators, small numbers with 2 decimals. */
export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (Math.abs(value) >= 100 || Number.isInteger(value)) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** Print a Markdown table (so it pastes into docs as is). */
export function printTable(title: string, headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(headers));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}

function tryRun(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return 'unavailable';
  }
}

/** What the numbers were measured on. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly redis: string;
  readonly memcached: string;
  readonly ioredis: string;
  readonly memjs: string;
  readonly date: string;
}

function packageVersion(name: string): string {
  try {
    const json = JSON.parse(readFileSync(join(repoRoot(), 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return json.version ?? 'unknown';
  } catch {
    return 'unavailable';
  }
}

/** Describe this machine: CPU count and model, node, server and client versions. */
export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    // not Linux
  }
  return {
    cpus: availableParallelism(),
    cpuModel,
    node: process.version,
    redis: /v=(\S+)/.exec(tryRun('redis-server', ['--version']))?.[1] ?? 'unavailable',
    memcached: tryRun('memcached', ['-V']).replace(/^memcached\s*/, ''),
    ioredis: packageVersion('ioredis'),
    memjs: packageVersion('memjs'),
    date: new Date().toISOString(),
  };
}

/** Print the machine line. */
export function printMachine(info: MachineInfo): void {
  console.log(
    `machine: ${info.cpus} CPUs (${info.cpuModel}), node ${info.node}, redis-server ${info.redis}, memcached ${info.memcached}, ioredis ${info.ioredis}, memjs ${info.memjs}`,
  );
}

/** Print the result as JSON (last, between markers) and save it to `bench/results/<name>.json`. */
export function saveResult(name: string, result: unknown): void {
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(result, null, 2);
  writeFileSync(join(dir, `${name}.json`), `${text}\n`);
  console.log(`\n--- JSON (also in bench/results/${name}.json) ---`);
  console.log(text);
}

/** `--name value` or `--name=value` from argv. */
export function argValue(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/** A positive integer option, with a default. */
export function intArg(name: string, fallback: number): number {
  const raw = argValue(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return value;
}

/** Comma-separated positive integers, with a default. */
export function intListArg(name: string, fallback: readonly number[]): number[] {
  const raw = argValue(name);
  if (raw === undefined) return [...fallback];
  return raw.split(',').map((part) => {
    const value = Number(part);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be comma-separated positive integers, got ${raw}`);
    return value;
  });
}
