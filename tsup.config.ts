import { defineConfig } from 'tsup';

// One entry per subpath export: importing the package root must never load ioredis or memjs.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    redis: 'src/adapters/redis/index.ts',
    memcached: 'src/adapters/memcached/index.ts',
    local: 'src/local/index.ts',
    'adapter-kit': 'src/adapter-kit.ts',
    testing: 'src/testing/index.ts',
    cli: 'src/cli/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  treeshake: true,
  external: ['vitest', 'ioredis', 'memjs', '@aws-sdk/client-dynamodb', '@aws-sdk/client-dynamodb-streams'],
});
