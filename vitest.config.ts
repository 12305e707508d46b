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
    coverage: {
      provider: 'v8',
      // Only code that runs in the test process counts: bundles and CLIs run in child processes.
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // Just under what the full suite reached when the gate was set (92.5 / 85.1 / 93.5 / 95.0 %
      // on Node 24): coverage may rise; a change that lowers it fails `npm test`.
      thresholds: { statements: 91, branches: 83, functions: 92, lines: 93 },
    },
  },
});
