import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postJson, startTestServer, type TestServer } from '../helpers/server.js';

/** An address of this machine that is not loopback: connecting to it makes us a non-loopback peer. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i !== undefined && !i.internal && i.family === 'IPv4')?.address;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ http: { host: '0.0.0.0', port: 0 } });
});
afterAll(async () => {
  await t.stop();
});

// Skipped only on a machine without any non-loopback IPv4 interface, where no such peer exists.
it.skipIf(external === undefined)('refuses repository control to non-loopback clients when no admin token is set', async () => {
  const r = await postJson(`http://${external}:${t.server.httpPort}/v2/repository/index`, {});
  expect(r.status).toBe(403);
  expect(r.json.error).toMatch(/only answered to loopback clients when no admin token is set/);
  // inference is not an admin operation
  const ok = await fetch(`http://${external}:${t.server.httpPort}/v2/health/ready`);
  expect(ok.status).toBe(200);
});
