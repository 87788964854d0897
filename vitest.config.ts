import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // RSS measurements run alone afterwards (vitest.memory.config.ts): parallel test files
    // would be measured along with them
    exclude: ['test/memory/**', '**/node_modules/**'],
    // onnxruntime-node and uWebSockets.js are native addons: run files in child processes.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
