import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/core/index.js';
import { EXAMPLE_MODELS, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';

let t: TestServer;
let repo: string;
const logLines: string[] = [];

// Every model worker thread exits at the start of its 3rd batch, as a crashed worker would.
// (This file runs in its own process: the setting reaches only these workers.)
beforeAll(async () => {
  process.env.SWITCHYARD_FAULT_INJECTION = 'worker-exit-on-run=3';
  repo = mkdtempSync(join(tmpdir(), 'switchyard-crash-'));
  cpSync(join(EXAMPLE_MODELS, 'tabular', '1'), join(repo, 'tabular', '1'), { recursive: true });
  writeFileSync(join(repo, 'tabular', 'config.yaml'), 'max_batch_size: 8\ninstance_count: 1\n');
  t = await startTestServer({}, repo, {}, createLogger('error', (l) => logLines.push(l)));
});
afterAll(async () => {
  delete process.env.SWITCHYARD_FAULT_INJECTION;
  await t.stop();
  rmSync(repo, { recursive: true, force: true });
});

it('fails the in-flight batch with 503 when its worker dies, replaces the worker and serves on', async () => {
  const statuses: number[] = [];
  let message = '';
  for (let i = 0; i < 7; i++) {
    const r = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(2, i)));
    statuses.push(r.status);
    if (r.status !== 200) message = r.json.error as string;
  }
  // batches 1, 2 run; 3 dies with its worker; the replacement runs 1, 2 and dies on 3 again
  expect(statuses).toEqual([200, 200, 503, 200, 200, 503, 200]);
  expect(message).toMatch(/model instance running this request stopped; it is being replaced, retry/);
  // the server log says so, once per failed batch (two died), with the model and the cause
  const deaths = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => String(r.msg).startsWith('model instance stopped while running a batch'));
  expect(deaths).toHaveLength(2);
  expect(deaths[0]).toMatchObject({ level: 'error', model: 'tabular', version: '1', requests: 1 });
  expect(String(deaths[0].cause)).toMatch(/exit/i);
});

it('fails every request of the batch that was running, none hangs', async () => {
  // a fresh worker has run 1 batch by now; send a burst: batches form while one runs
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1, 50 + i)))));
  const statuses = results.map((r) => r.status);
  expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
  expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
  const after = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)));
  expect([200, 503]).toContain(after.status);
});
