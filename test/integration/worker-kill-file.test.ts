/**
 * SWITCHYARD_FAULT_INJECTION=worker-exit-on-file=PATH, the hook the chaos run (test/chaos)
 * kills worker threads with: one worker exits per file written, at the start of its next
 * batch; that batch fails with the worker-death 503, and the replacement serves on.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXAMPLE_MODELS, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';

let t: TestServer;
let repo: string;
let killFile: string;

// (this file runs in its own process: the setting reaches only these workers)
beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'switchyard-kill-file-'));
  killFile = join(repo, 'kill-a-worker');
  process.env.SWITCHYARD_FAULT_INJECTION = `worker-exit-on-file=${killFile}`;
  cpSync(join(EXAMPLE_MODELS, 'tabular', '1'), join(repo, 'tabular', '1'), { recursive: true });
  writeFileSync(join(repo, 'tabular', 'config.yaml'), 'max_batch_size: 8\ninstance_count: 1\n');
  t = await startTestServer({}, repo);
});
afterAll(async () => {
  delete process.env.SWITCHYARD_FAULT_INJECTION;
  await t.stop();
  rmSync(repo, { recursive: true, force: true });
});

const infer = async (seed: number): Promise<number> => (await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1, seed)))).status;

it('kills one worker per file written, and only then', async () => {
  // no file: the workers serve
  expect([await infer(1), await infer(2), await infer(3)]).toEqual([200, 200, 200]);
  writeFileSync(killFile, '');
  // the next batch's worker takes the file and exits: that request is the 503, the next ones are served
  expect(await infer(4)).toBe(503);
  expect(existsSync(killFile)).toBe(false);
  expect([await infer(5), await infer(6)]).toEqual([200, 200]);
  writeFileSync(killFile, '');
  expect([await infer(7), await infer(8)]).toEqual([503, 200]);
});
