import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{emulator,devices,kernel-model,guest-tests,tools}/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
