import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamStats } from '../../src/transport/ws/index.js';
import { EXAMPLE_MODELS, counter, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';
import { StreamClient, sleep } from '../helpers/stream-client.js';

const MAX_INFLIGHT = 4;
const MAX_QUEUED = 8;
const MAX_BUFFERED = 64 * 1024;

let t: TestServer;
let repo: string;

/** tabular as it is; heavy on one instance and one thread, so that requests queue up behind each other */
beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'switchyard-ws-'));
  cpSync(join(EXAMPLE_MODELS, 'tabular'), join(repo, 'tabular'), { recursive: true });
  cpSync(join(EXAMPLE_MODELS, 'heavy'), join(repo, 'heavy'), { recursive: true });
  writeFileSync(join(repo, 'heavy', 'config.yaml'), 'max_batch_size: 64\ninstance_count: 1\nintra_op_threads: 1\n');
  t = await startTestServer(
    { websocket: { max_inflight_per_connection: MAX_INFLIGHT, max_queued_per_connection: MAX_QUEUED, max_buffered_bytes: MAX_BUFFERED } },
    repo,
  );
});
afterAll(async () => {
  await t.stop();
  rmSync(repo, { recursive: true, force: true });
});

const ROWS = tabularRows(64, 3);

function request(i: number): Record<string, unknown> {
  return { id: `r${i}`, model_name: 'tabular', ...tabularRequest(ROWS) };
}

/** The one open connection's state (each test uses one socket at a time). */
async function onlyConnection(): Promise<ReturnType<typeof streamStats>[number]> {
  for (;;) {
    const all = streamStats(t.server.gateway);
    if (all.length === 1) return all[0];
    await sleep(2);
  }
}

async function noConnections(): Promise<void> {
  while (streamStats(t.server.gateway).length > 0) await sleep(2);
}

/**
 * Sends requests without reading responses, never more than the connection can take
 * (running + waiting), until the gateway has stopped starting them because the send buffer
 * is full and the waiting room is full too. Returns how many were sent.
 */
async function fillWithoutReading(c: StreamClient, limit: number): Promise<number> {
  c.ws.pause();
  let sent = 0;
  while (sent < limit) {
    const s = streamStats(t.server.gateway)[0];
    // only when the gateway has received everything sent so far
    if (sent === s.started + s.queued) {
      if (s.backpressured && s.queued === MAX_QUEUED) return sent;
      // as many as can wait even if none can start: none of them is refused
      const room = MAX_QUEUED - s.queued;
      for (let i = 0; i < room; i++) c.send(request(sent++));
    }
    await sleep(1);
  }
  throw new Error(`no backpressure after ${limit} requests`);
}

describe('WebSocket backpressure', () => {
  it('stops starting requests for a client that does not read, and keeps what it buffers bounded', async () => {
    const c = await StreamClient.open(t.url);
    await onlyConnection();
    const sent = await fillWithoutReading(c, 20_000);
    // what was running when the buffer filled finishes; nothing new starts
    while ((await onlyConnection()).inflight > 0) await sleep(2);
    const s = await onlyConnection();
    expect(s.backpressured).toBe(true);
    expect(s.pauses).toBeGreaterThanOrEqual(1);
    expect(s.queued).toBe(MAX_QUEUED);
    expect(s.peakQueued).toBe(MAX_QUEUED);
    expect(s.inflight).toBe(0);
    // one response is what REST answers for the same rows (with a shorter id)
    const rest = await fetch(`${t.url}/v2/models/tabular/infer`, { method: 'POST', body: JSON.stringify(tabularRequest(ROWS)) });
    const responseBytes = (await rest.text()).length;
    expect(s.bufferedBytes).toBeGreaterThan(MAX_BUFFERED);
    expect(s.peakBufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED + MAX_INFLIGHT * responseBytes);
    expect(s.started).toBe(s.answered);
    expect(s.started + s.queued).toBe(sent);

    // one more while the send buffer and the waiting room are full: closed with 1013
    c.send(request(sent));
    await noConnections();
    c.ws.resume();
    const closed = await c.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/^try again later/);
    const got = c.drainInbox();
    expect(got.length).toBe(s.answered);
    for (const m of got) expect(m.json.error).toBeUndefined();
  });

  it('starts the waiting requests once the client reads again', async () => {
    await noConnections();
    const c = await StreamClient.open(t.url);
    await onlyConnection();
    const sent = await fillWithoutReading(c, 20_000);
    c.ws.resume();
    const got = await c.take(sent);
    const ids = new Set(got.map((m) => m.json.id));
    expect(ids.size).toBe(sent);
    for (const m of got) expect(m.json.error).toBeUndefined();
    const s = await onlyConnection();
    expect(s.backpressured).toBe(false);
    expect(s.queued).toBe(0);
    expect(s.answered).toBe(sent);
    c.close();
    await c.closed;
  });

  it('answers requests over the in-flight and waiting limits with an error while the client reads', async () => {
    await noConnections();
    const c = await StreamClient.open(t.url);
    const n = 200;
    // heavy runs one request at a time: most of these arrive while 4 run and 8 wait
    for (let i = 0; i < n; i++) {
      c.send({ id: `h${i}`, model_name: 'heavy', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 512], data: new Array(512).fill(0.01) }] });
    }
    const got = await c.take(n);
    const refused = got.filter((m) => m.json.code === 'SY_ERR_QUEUE_FULL');
    const ok = got.filter((m) => m.json.error === undefined);
    expect(refused.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThanOrEqual(MAX_INFLIGHT + MAX_QUEUED);
    expect(refused.length + ok.length).toBe(n);
    expect(refused[0].json.error).toBe(
      `too many requests in flight on this connection (limit ${MAX_INFLIGHT} running, and ${MAX_QUEUED} or 16777216 bytes waiting); wait for responses before sending more`,
    );
    expect(new Set(got.map((m) => m.json.id)).size).toBe(n);
    c.close();
    await c.closed;
  });

  it('cancels the requests of a socket that closes while they wait in the model queue', async () => {
    await noConnections();
    const metrics = async (): Promise<string> => (await fetch(`${t.url}/metrics`)).text();
    const wsHeavy = (status: string): string => `model="heavy",version="1",protocol="ws",status="${status}"`;
    const text0 = await metrics();
    const before = { cancelled: counter(text0, 'switchyard_requests_total', wsHeavy('SY_ERR_CANCELLED')), ok: counter(text0, 'switchyard_requests_total', wsHeavy('success')) };
    const x = { name: 'x', datatype: 'FP32', shape: [64, 512], data: new Array(64 * 512).fill(0.01) };
    // keep the one heavy instance busy with REST requests, so that the socket's requests queue behind them
    const heavy = t.server.gateway.repository.resolve('heavy', null);
    const busy = Array.from({ length: 40 }, () => postJson(`${t.url}/v2/models/heavy/infer`, { inputs: [x], parameters: { binary_data_output: true } }));
    while (heavy.scheduler.queued < 20) await sleep(1);

    const c = await StreamClient.open(t.url);
    for (let i = 0; i < MAX_INFLIGHT + 2; i++) c.send({ id: `h${i}`, model_name: 'heavy', inputs: [x] });
    for (;;) {
      const s = await onlyConnection();
      if (s.inflight === MAX_INFLIGHT && s.queued === 2) break;
      await sleep(1);
    }
    c.ws.terminate();
    await noConnections();
    for (const r of await Promise.all(busy)) expect(r.status).toBe(200);

    const text = await metrics();
    // the 4 that waited in the model queue were cancelled; the 2 held on the connection never started
    expect(counter(text, 'switchyard_requests_total', wsHeavy('SY_ERR_CANCELLED')) - before.cancelled).toBe(MAX_INFLIGHT);
    expect(counter(text, 'switchyard_requests_total', wsHeavy('success')) - before.ok).toBe(0);
    expect(text).toContain('switchyard_queue_depth{model="heavy",version="1"} 0');
  });
});
