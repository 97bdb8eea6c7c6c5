import { defineConfig } from 'vitest/config';

// `npm run test:pack`: pack the tarball (prepack builds dist/ and the types), install it into a
// fresh directory outside the repository and use it there. A separate step of .ci/run and of
// the workflow (building and installing take longer than a unit test should).
export default defineConfig({
  test: {
    include: ['tools/pack/**/*.packtest.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
