/**
 * Where the peak of the memory benchmark comes from: the live bytes (heap + external, after a
 * full GC) each stage of handling a ~6 MB event keeps, for the library's handler and for the
 * classic one, plus the bytes planning allocates and drops (garbage the young generation holds
 * until a scavenge, which RSS shows too).
 *
 * Run: `node bench/run.mjs memory-breakdown` (options: `--megabytes 6`). The allocation row is
 * complete only when no scavenge runs while planning: after that run, repeat it with
 * `node --expose-gc --max-semi-space-size=512 .tmp/bench/memory-breakdown.mjs`. No server is
 * needed: ioredis queues the commands offline (`lazyConnect`), holding the same command objects a
 * connected client holds until the replies come. Redis only; memjs holds one request buffer and
 * one callback per command instead.
 *
 * @module
 */
import { Redis } from 'ioredis';
import { coalesceCommands } from '../src/core/coalesce.js';
import type { AnyCacheCommand } from '../src/core/commands.js';
import { compileRules, planCommands } from '../src/core/plan.js';
import { dynamodbStreamsRecords } from '../src/lambda/record-decoder.js';
import { fmt, intArg, printTable } from './lib/report.js';
import { makeEvent, rules } from './lib/workload.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc (bench/run.mjs does)');
const live = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
/** Heap bytes allocated by `fn`; a scavenge inside `fn` makes it an undercount (see the module doc). */
const allocated = <T>(fn: () => T): { value: T; bytes: number } => {
  const before = process.memoryUsage().heapUsed;
  const value = fn();
  return { value, bytes: process.memoryUsage().heapUsed - before };
};

const megabytes = intArg('megabytes', 6);
const perRecord = JSON.stringify(makeEvent(200)).length / 200;
const text = JSON.stringify(makeEvent(Math.floor((megabytes * 1_000_000) / perRecord) - 5));
const eventBytes = Buffer.byteLength(text);
const mib = (bytes: number) => fmt(bytes / 1_048_576, 2);
const rows: string[][] = [];
const row = (what: string, bytes: number) => rows.push([what, mib(bytes), fmt(bytes / eventBytes)]);

const compiled = compileRules(rules);
// Warm the code paths so compiled code and inline caches are not counted as data.
planCommands(makeEvent(200).Records, compiled, { decoder: dynamodbStreamsRecords.changes });

const base = live();
const event = JSON.parse(text) as { Records: unknown[] };
const afterParse = live();
row('parsed event (the runtime holds it)', afterParse - base);

const planned = allocated(() => {
  const unwrapped = event.Records.map((record, i) => dynamodbStreamsRecords.unwrap(record, i));
  return {
    unwrapped,
    plans: planCommands(
      unwrapped.map((u) => u.payload),
      compiled,
      { decoder: dynamodbStreamsRecords.changes },
    ),
  };
});
const afterPlan = live();
row('ours: unwrapped records + plans (keys, encoded values)', afterPlan - afterParse);
row('ours: allocated while planning (garbage until a scavenge)', planned.bytes - (afterPlan - afterParse));

const commands: AnyCacheCommand[] = [];
const owners: number[] = [];
for (const plan of planned.value.plans) for (const command of plan.commands) commands.push(command), owners.push(plan.index);
const coalesced = coalesceCommands(commands, owners);
const afterCollect = live();
row('ours: command lists + coalescing', afterCollect - afterPlan);

const client = new Redis({ lazyConnect: true, enableOfflineQueue: true, port: 1 });
client.on('error', () => undefined);
const pipeline = client.pipeline();
for (const command of coalesced.commands) {
  if (command.kind === 'delete') pipeline.del(command.key);
  else if (command.kind === 'set') pipeline.set(command.key, command.value, 'EX', command.ttlSeconds ?? 0);
}
const afterQueue = live();
row('ours: ioredis pipeline, commands queued', afterQueue - afterCollect);
const respBytes = coalesced.commands.reduce((sum, c) => sum + Buffer.byteLength(c.key) + (c.kind === 'set' ? Buffer.byteLength(c.value) + 40 : 20), 0);
row('either: serialized request (string, then the socket buffer)', respBytes);
row('ours: total live before the replies', afterQueue - afterParse + respBytes);

// Drop ours, then the classic handler: one SET/DEL per record, the raw NewImage JSON as value.
planned.value.plans.length = 0;
planned.value.unwrapped.length = 0;
commands.length = 0;
owners.length = 0;
coalesced.commands.length = 0;
const classicBase = live();
const classicClient = new Redis({ lazyConnect: true, enableOfflineQueue: true, port: 1 });
classicClient.on('error', () => undefined);
const values = allocated(() =>
  (event.Records as { eventName: string; dynamodb: { Keys: { pk: { S: string } }; NewImage?: unknown } }[]).map((record) =>
    record.eventName === 'REMOVE' ? undefined : JSON.stringify(record.dynamodb.NewImage),
  ),
);
const afterValues = live();
row('classic: JSON.stringify(NewImage) values', afterValues - classicBase);
const pending = (event.Records as { eventName: string; dynamodb: { Keys: { pk: { S: string } } } }[]).map((record, i) => {
  const key = `user:${record.dynamodb.Keys.pk.S}`;
  const value = values.value[i];
  return value === undefined ? classicClient.del(key) : classicClient.set(key, value);
});
for (const p of pending) p.catch(() => undefined);
const afterClassic = live();
row('classic: ioredis commands queued (one promise each)', afterClassic - afterValues);
row('classic: total live before the replies', afterClassic - classicBase + respBytes);

printTable(
  `Live bytes by stage, ${event.Records.length.toLocaleString('en-US')} records, event ${mib(eventBytes)} MiB of JSON (after full GC)`,
  ['stage', 'MiB', 'x event'],
  rows,
);
client.disconnect();
classicClient.disconnect();
