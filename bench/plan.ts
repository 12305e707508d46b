/**
 * The planner alone (no I/O): CPU time to plan the 10,000-record workload batch, best and
 * median of `--runs` (default 15). Run: `node bench/run.mjs plan`.
 *
 * @module
 */
import { planCommands } from '../src/core/plan.js';
import { fmt, intArg, machineInfo, median, printMachine, saveResult } from './lib/report.js';
import { makeEvent, rules } from './lib/workload.js';

const runs = intArg('runs', 15);
const size = intArg('size', 10_000);
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
saveResult('plan', { machine, runs, size, cpuMs: times, bestMs: best, medianMs: median(times) });
