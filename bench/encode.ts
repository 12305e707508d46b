/**
 * The `json` codec's encoding of an untransformed item, two ways, on the workload's images:
 * `JSON.stringify` of the plain item (today's path, after the item is built) and the fused
 * encoder straight from the validated AttributeValue image (bench/lib/fused-json.ts). Also the
 * cost of building the item (`convertImage`), which only a lazy item view could skip.
 *
 * Run: `node bench/run.mjs encode [--runs 7]`.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { convertImage } from '../src/core/attributes.js';
import { imageToJson } from './lib/fused-json.js';
import type { AttributeMap } from '../src/core/rules.js';
import { fmt, intArg, machineInfo, median, printMachine, printTable } from './lib/report.js';
import { makeEvent } from './lib/workload.js';

const images = makeEvent(10_000).Records.map((r) => (r.dynamodb?.NewImage ?? r.dynamodb?.OldImage) as AttributeMap);
const converted = images.map((image) => convertImage(image, 'NewImage'));

function time(fn: () => void, runs: number): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    fn();
    times.push(((performance.now() - start) * 1000) / images.length);
  }
  return median(times);
}

const runs = intArg('runs', 7);
printMachine(machineInfo());
let sink = 0;
const rows = [
  [
    'convertImage (validate + build item)',
    time(() => converted.forEach((_, i) => (sink += convertImage(images[i], 'NewImage').raw === undefined ? 1 : 0)), runs),
  ],
  ['JSON.stringify(item)', time(() => converted.forEach((c) => (sink += JSON.stringify(c.item).length)), runs)],
  ['imageToJson(raw) (fused)', time(() => converted.forEach((c) => (sink += imageToJson(c.raw).length)), runs)],
] as const;
printTable(
  `µs per image, median of ${runs} runs over 10,000 workload images`,
  ['step', 'µs/image'],
  rows.map(([name, us]) => [name, fmt(us, 3)]),
);
if (sink < 0) console.log(sink);
