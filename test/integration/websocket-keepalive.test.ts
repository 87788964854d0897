import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_MODELS, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';
import { StreamClient } from '../helpers/stream-client.js';

let repo: string;
let pinging: TestServer;
let silent: TestServer;
let disabled: TestServer;

beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'switchyard-ws-idle-'));
  cpSync(join(EXAMPLE_MODELS, 'tabular'), join(repo, 'tabular'), { recursive: true });
  [pinging, silent, disabled] = await Promise.all([
    startTestServer({ websocket: { idle_timeout_s: 8, send_pings: true } }, repo),
    startTestServer({ websocket: { idle_timeout_s: 8, send_pings: false } }, repo),
    startTestServer({ websocket: { enabled: false } }, repo),
  ]);
});
afterAll(async () => {
  await Promise.all([pinging.stop(), silent.stop(), disabled.stop()]);
  rmSync(repo, { recursive: true, force: true });
});

describe('WebSocket keepalive', () => {
  it('pings an idle client that answers pongs and keeps it past idle_timeout_s; closes a silent connection without pings', async () => {
    const [kept, dropped] = await Promise.all([StreamClient.open(pinging.url), StreamClient.open(silent.url)]);
    // the `ws` client answers pings with pongs by itself
    await Promise.all([kept.until(() => kept.pings >= 2), dropped.closed]);
    expect(kept.closeCode).toBeNull();
    expect(dropped.pings).toBe(0);
    kept.send({ id: 'still-here', model_name: 'tabular', ...tabularRequest(tabularRows(1)) });
    expect((await kept.next()).json.id).toBe('still-here');
    kept.close();
    await kept.closed;
  }, 40_000);

  it('is not served when websocket.enabled is false', async () => {
    await expect(StreamClient.open(disabled.url)).rejects.toThrow(/404/);
  });
});
