import { defineConfig } from 'tsup';
import { ENTRY_POINTS } from './scripts/entries.mjs';

// One entry per subpath export (scripts/entries.mjs): importing the package root must never load
// ioredis, memjs or the AWS SDK.
export default defineConfig({
  entry: Object.fromEntries(ENTRY_POINTS.map((e) => [e.name, e.source])),
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  platform: 'node',
  splitting: true,
  treeshake: true,
  external: ['vitest', 'aws-cdk-lib', 'constructs', 'ioredis', 'memjs', '@aws-sdk/client-dynamodb', '@aws-sdk/client-dynamodb-streams'],
});
