import { defineConfig } from 'vitest/config';

// scripts/trixie-smoke.sh: the HTTP edge cases against the gateway it runs in the Debian 13
// root (SWITCHYARD_EDGE_TARGET). No global setup: dist/ is built already, and no server of
// this process is started.
export default defineConfig({
  test: {
    include: ['test/integration/http-edge-cases.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
  },
});
