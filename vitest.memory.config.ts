import { defineConfig } from 'vitest/config';

/** Memory tests: one file at a time, nothing else running beside them. */
export default defineConfig({
  test: {
    include: ['test/memory/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
