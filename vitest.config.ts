import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{emulator,devices,kernel-model,guest-tests,tools}/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // the C guest programs are built once, before the workers start (tools/testing/vitest-global-setup.ts)
    globalSetup: ['tools/testing/vitest-global-setup.ts'],
    // one fork per CPU: vitest's default in a run is CPUs - 1, a single worker on the 2-core CI
    // machines (docs/CI.md "Test workers": 281 s against 224 s for the whole suite)
    maxWorkers: Math.max(availableParallelism(), 1),
  },
});
