import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start real servers on loopback; run files one at a time so two
    // suites never compete for the machine's two cores or for ports.
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    env: { DDB_LOCAL_TELEMETRY: '0' },
  },
});
