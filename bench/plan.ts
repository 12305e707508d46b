/**
 * The planner alone (no I/O): CPU time to plan the 10,000-record workload batch, best and
 * median of `--runs` (default 15). Run: `node bench/run.mjs plan` (`--mode invalidate|versioned` plans
 * with that mode's rules instead of the write-through workload rules).
 *
 * @module
 */
import { planCommands } from '../src/core/plan.js';
import { argValue, fmt, intArg, machineInfo, median, printMachine, saveResult } from './lib/report.js';
import { makeEvent, MODES, type Mode, RULES, rules as workloadRules } from './lib/workload.js';

const runs = intArg('runs', 15);
const size = intArg('size', 10_000);
const mode = argValue('mode');
if (mode !== undefined && !(MODES as readonly string[]).includes(mode)) throw new Error(`--mode must be one of ${MODES.join(', ')}`);
const rules = mode === undefined ? workloadRules : RULES[mode as Mode];
const machine = machineInfo();
printMachine(machine);
const event = makeEvent(size);
const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const start = process.cpuUsage();
  planCommands(event.Records, rules);
  const used = process.cpuUsage(start);
  times.push((used.user + used.system) / 1000);
}
const best = Math.min(...times);
console.log(
  `planning ${size.toLocaleString('en-US')} records: CPU ms best ${fmt(best)}, median ${fmt(median(times))} (${runs} runs); ${fmt((best * 1000) / size, 1)} µs per record at best`,
);
saveResult('plan', { machine, mode: mode ?? 'workload', runs, size, cpuMs: times, bestMs: best, medianMs: median(times) });
