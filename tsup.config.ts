import { defineConfig, type Options } from 'tsup';
import { ENTRY_POINTS } from './scripts/entries.mjs';

const shared: Options = {
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'node22',
  platform: 'node',
  treeshake: true,
  external: ['vitest', 'aws-cdk-lib', 'constructs', 'ioredis', 'memjs', '@aws-sdk/client-dynamodb', '@aws-sdk/client-dynamodb-streams'],
};

// The CDK construct shares no code with the library. Built on its own, it cannot change how the
// library's entries are split into chunks, so every other file in dist is byte-identical with or
// without it (test/integration/cdk-synth.test.ts).
const ISOLATED = new Set(['cdk']);
const entries = (keep: (name: string) => boolean) => Object.fromEntries(ENTRY_POINTS.filter((e) => keep(e.name)).map((e) => [e.name, e.source]));

// One entry per subpath export (scripts/entries.mjs): importing the package root must never load
// ioredis, memjs or the AWS SDK.
// The builds run side by side, so none of them cleans dist (one build's clean, its declaration
// build's included, would delete what another just wrote): `npm run build` empties dist first.
export default defineConfig([
  { ...shared, entry: entries((name) => !ISOLATED.has(name)), splitting: true, clean: false },
  ...[...ISOLATED].map((name): Options => ({ ...shared, entry: entries((n) => n === name), splitting: false, clean: false })),
]);
