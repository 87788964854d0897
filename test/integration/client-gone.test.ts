/**
 * A client that goes away while its request runs (a closed connection: uWS also closes one on
 * which a pipelined request arrives while an answer is pending) gets no answer, so the request
 * is counted and logged as SY_ERR_CANCELLED, never as a success (issue 14 items 14-15).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { counter, EXAMPLE_MODELS, startTestServer, type TestServer } from '../helpers/server.js';

const ROWS = 64;
let dir: string;
let t: TestServer;
let logFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-client-gone-'));
  const repo = join(dir, 'models');
  // 64 rows of the heavy model per request, one instance on one thread: a run takes long enough
  // for the client to leave while it is in the worker
  cpSync(join(EXAMPLE_MODELS, 'heavy'), join(repo, 'slow'), { recursive: true });
  writeFileSync(join(repo, 'slow', 'config.yaml'), 'max_batch_size: 64\ninstance_count: 1\nintra_op_threads: 1\n');
  logFile = join(dir, 'requests.jsonl');
  t = await startTestServer({ request_log: { sinks: [{ type: 'file', path: logFile }], flush_interval_ms: 0 } }, repo);
});
afterAll(async () => {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

function body(id: string): string {
  const data = Array.from({ length: ROWS * 512 }, (_, i) => ((i * 7919) % 1000) / 1000);
  return JSON.stringify({ id, inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, 512], data }] });
}

it('logs a request whose client closed the connection while it ran as cancelled, not success', async () => {
  const served = t.server.gateway.repository.resolve('slow', null);
  const cancelledBefore = counter(await (await fetch(`${t.url}/metrics`)).text(), 'switchyard_requests_total', 'protocol="rest",status="SY_ERR_CANCELLED"');
  const ids = ['gone-1', 'gone-2', 'gone-3'];
  for (const id of ids) {
    const text = body(id);
    const socket = connect(Number(new URL(t.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /v2/models/slow/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    const deadline = Date.now() + 10_000;
    while (served.scheduler.inflight === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    expect(served.scheduler.inflight, 'the request reached the worker').toBe(1);
    socket.destroy();
    while (served.scheduler.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }
  const deadline = Date.now() + 10_000;
  let records: { request_id: string; status: string }[] = [];
  while (Date.now() < deadline) {
    records = readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { request_id: string; status: string });
    if (ids.every((id) => records.some((r) => r.request_id === id))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(ids.map((id) => records.filter((r) => r.request_id === id).map((r) => r.status))).toEqual(ids.map(() => ['SY_ERR_CANCELLED']));
  const cancelledAfter = counter(await (await fetch(`${t.url}/metrics`)).text(), 'switchyard_requests_total', 'protocol="rest",status="SY_ERR_CANCELLED"');
  expect(cancelledAfter - cancelledBefore).toBe(ids.length);
});
