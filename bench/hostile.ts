/**
 * Hostile input: CPU ms to plan (or reject) one record of each hostile shape at DynamoDB's
 * 400 KB item limit, and one record that fans out to 130,000 keys. Every figure should be a
 * few milliseconds; a shape that grows quadratically shows up as seconds.
 * Run: `node bench/run.mjs hostile [--bytes 409600]`.
 *
 * @module
 */
import { planCommands } from '../src/core/plan.js';
import { fanOutRule, HOSTILE_RULES, HOSTILE_SHAPES, hostileRecord, ITEM_LIMIT_BYTES } from './lib/hostile.js';
import { fmt, intArg, machineInfo, printMachine, printTable, saveResult } from './lib/report.js';

const bytes = intArg('bytes', ITEM_LIMIT_BYTES);
const machine = machineInfo();
printMachine(machine);

function cpuMs(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const rows: string[][] = [];
const results: Record<string, { ms: number; outcome: string }> = {};
for (const [name, shape] of Object.entries(HOSTILE_SHAPES)) {
  const record = hostileRecord(shape(bytes));
  let outcome = '';
  const ms = cpuMs(() => {
    const [plan] = planCommands([record], HOSTILE_RULES);
    outcome = plan?.error ? `rejected (${plan.error.field ?? 'no field'})` : `${plan?.commands.length ?? 0} command(s)`;
  });
  rows.push([name, fmt(ms), outcome]);
  results[name] = { ms, outcome };
}
const fanOut = 130_000;
{
  let outcome = '';
  const rule = fanOutRule(fanOut);
  const ms = cpuMs(() => {
    const [plan] = planCommands([hostileRecord({})], [rule], { maxKeysPerRecord: 200_000 });
    outcome = plan?.error ? `rejected: ${plan.error.message}` : `${plan?.commands.length ?? 0} command(s)`;
  });
  rows.push([`fan-out to ${fanOut.toLocaleString('en-US')} keys`, fmt(ms), outcome]);
  results['fan-out'] = { ms, outcome };
}
printTable(`planning one hostile record of ${bytes.toLocaleString('en-US')} bytes`, ['shape', 'CPU ms', 'outcome'], rows);
saveResult('hostile', { machine, bytes, results });
