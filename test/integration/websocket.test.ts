import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counter, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';
import { StreamClient, binaryFrame, sleep } from '../helpers/stream-client.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ websocket: { max_violations: 3, max_payload_bytes: 65536 } });
});
afterAll(async () => {
  await t.stop();
});

async function metricsText(): Promise<string> {
  return (await fetch(`${t.url}/metrics`)).text();
}

function gauge(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

function wsRequest(id: string, rows: number[][], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, model_name: 'tabular', ...tabularRequest(rows), ...extra };
}

describe('WebSocket streaming: text frames', () => {
  it('pipelines 1,000 requests on one socket and answers each by its id, with the values REST gives', async () => {
    const inputs = Array.from({ length: 50 }, (_, i) => tabularRows(1 + (i % 4), 100 + i));
    const rest = await Promise.all(inputs.map((rows) => postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(rows))));
    for (const r of rest) expect(r.status).toBe(200);

    const c = await StreamClient.open(t.url);
    const n = 1000;
    for (let i = 0; i < n; i++) c.send(wsRequest(`req-${i}`, inputs[i % inputs.length]));
    const got = await c.take(n);
    const seen = new Set<string>();
    for (const m of got) {
      expect(m.binary).toBeNull();
      expect(m.json.error).toBeUndefined();
      const id = m.json.id as string;
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      const i = Number(id.slice(4));
      expect(m.json.model_name).toBe('tabular');
      expect(m.json.model_version).toBe('2');
      expect(m.json.outputs).toEqual(rest[i % inputs.length].json.outputs);
    }
    expect(seen.size).toBe(n);
    c.close();
    await c.closed;
  });

  it('serves the version a message names, and answers for each its own outputs selection', async () => {
    const c = await StreamClient.open(t.url);
    const rows = tabularRows(2, 7);
    c.send(wsRequest('v1', rows, { model_version: '1', outputs: [{ name: 'label' }] }));
    const m = await c.next();
    expect(m.json).toMatchObject({ id: 'v1', model_name: 'tabular', model_version: '1' });
    const restV1 = await postJson(`${t.url}/v2/models/tabular/versions/1/infer`, tabularRequest(rows, { outputs: [{ name: 'label' }] }));
    expect(m.json.outputs).toEqual(restV1.json.outputs);
    c.close();
  });

  it('answers a bad message with an error for its id and keeps the socket open', async () => {
    const c = await StreamClient.open(t.url);
    c.send('{"id": "a", not json');
    let m = await c.next();
    expect(m.json).toMatchObject({ id: null, code: 'SY_ERR_MALFORMED_JSON' });
    expect(m.json.error).toMatch(/^malformed JSON: /);

    c.send({ id: 'b', model_name: 'nope', ...tabularRequest(tabularRows(1)) });
    m = await c.next();
    expect(m.json).toEqual({ id: 'b', error: "Request for unknown model: 'nope' is not found; GET /v2/repository/index lists what is served", code: 'SY_ERR_MODEL_NOT_FOUND' });

    c.send({ id: 'c', model_name: 'tabular', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 15], data: new Array(15).fill(0) }] });
    m = await c.next();
    expect(m.json).toEqual({ id: 'c', error: 'input "x": expected FP32 [-1,16], got FP32 [1,15]', code: 'SY_ERR_INVALID_INPUT' });

    c.send({ model_name: 'tabular', ...tabularRequest(tabularRows(1)) });
    m = await c.next();
    expect(m.json.id).toBeNull();
    expect(m.json.error).toMatch(/the message has no "id"/);

    c.send({ id: 'd', ...tabularRequest(tabularRows(1)) });
    m = await c.next();
    expect(m.json).toMatchObject({ id: 'd', code: 'SY_ERR_INVALID_INPUT' });
    expect(m.json.error).toMatch(/no "model_name"/);

    c.send({ id: 'e', model_name: 'tabular', model_version: 1, ...tabularRequest(tabularRows(1)) });
    m = await c.next();
    expect(m.json).toMatchObject({ id: 'e', error: '"model_version" must be a string such as "1", got 1' });

    c.send({ id: 'f', model_name: '../etc', ...tabularRequest(tabularRows(1)) });
    m = await c.next();
    expect(m.json).toMatchObject({ id: 'f', code: 'SY_ERR_BAD_REQUEST' });
    expect(m.json.error).toMatch(/invalid model name/);

    // after all that, the socket still serves
    c.send(wsRequest('ok', tabularRows(1)));
    m = await c.next();
    expect(m.json).toMatchObject({ id: 'ok', model_name: 'tabular' });
    expect(c.closeCode).toBeNull();
    c.close();
  });

  it('answers a message over max_payload_bytes with an error, and drops the connection on one over twice that', async () => {
    const c = await StreamClient.open(t.url);
    const big = JSON.stringify(wsRequest('big', tabularRows(1))).padEnd(70_000, ' ');
    c.send(big);
    const m = await c.next();
    expect(m.json).toMatchObject({ id: null, code: 'SY_ERR_BODY_TOO_LARGE' });
    expect(m.json.error).toBe('message of 70000 bytes is over the limit of 65536 bytes (websocket.max_payload_bytes); send smaller batches');
    c.send(wsRequest('after', tabularRows(1)));
    expect((await c.next()).json.id).toBe('after');

    // uWS does not buffer it: it drops the connection without a close frame
    c.send(' '.repeat(140_000));
    const closed = await c.closed;
    expect(closed.code).toBe(1006);
  });

  it('closes the socket with 1008 after max_violations protocol violations', async () => {
    const before = counter(await metricsText(), 'switchyard_ws_protocol_violations_total', 'reason="missing_id"');
    const c = await StreamClient.open(t.url);
    c.send({ model_name: 'tabular', ...tabularRequest(tabularRows(1)) });
    c.send({ id: 7, model_name: 'tabular', ...tabularRequest(tabularRows(1)) });
    c.send('[]');
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/protocol violations/);
    const errors = c.drainInbox();
    expect(errors.map((e) => e.json.id)).toEqual([null, null, null]);
    expect(errors[1].json.error).toBe('"id" must be a non-empty string of at most 256 characters, got 7');
    const after = counter(await metricsText(), 'switchyard_ws_protocol_violations_total', 'reason="missing_id"');
    expect(after - before).toBe(2);
  });
});

describe('WebSocket streaming: binary frames', () => {
  it('takes binary tensors after a length-prefixed JSON header and answers binary outputs the same way', async () => {
    const rows = tabularRows(3, 42);
    const x = Float32Array.from(rows.flat());
    const c = await StreamClient.open(t.url);
    c.send(
      binaryFrame(
        {
          id: 'bin',
          model_name: 'tabular',
          inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 16], parameters: { binary_data_size: x.byteLength } }],
          outputs: [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'label' }],
        },
        new Uint8Array(x.buffer),
      ),
    );
    const m = await c.next();
    expect(m.binary).not.toBeNull();
    const rest = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(rows));
    const restOut = rest.json.outputs as { name: string; data: number[] }[];
    const outs = m.json.outputs as { name: string; shape: number[]; data?: number[]; parameters?: { binary_data_size: number } }[];
    expect(m.json.id).toBe('bin');
    expect(outs[0]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 3], parameters: { binary_data_size: 36 } });
    expect(m.binary?.byteLength).toBe(36);
    const probs = Array.from(new Float32Array(new Uint8Array(m.binary as Buffer).slice().buffer));
    expect(probs).toEqual(restOut.find((o) => o.name === 'probabilities')?.data);
    expect(outs[1]).toEqual({ name: 'label', datatype: 'INT64', shape: [3], data: restOut.find((o) => o.name === 'label')?.data });

    // binary inputs without binary outputs: a text answer
    c.send(
      binaryFrame(
        { id: 'bin-text', model_name: 'tabular', inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 16], parameters: { binary_data_size: x.byteLength } }] },
        new Uint8Array(x.buffer),
      ),
    );
    const m2 = await c.next();
    expect(m2.binary).toBeNull();
    expect(m2.json.outputs).toEqual(rest.json.outputs);

    // a text request may ask for binary outputs too
    c.send(wsRequest('text-bin', rows, { parameters: { binary_data_output: true } }));
    const m3 = await c.next();
    expect(m3.binary?.byteLength).toBe(36 + 24);
    c.close();
  });

  it('answers bad binary framing with an error and keeps the socket open', async () => {
    const c = await StreamClient.open(t.url);
    c.send(Buffer.from([1, 0]));
    let m = await c.next();
    expect(m.json).toMatchObject({ id: null, code: 'SY_ERR_BAD_REQUEST' });
    expect(m.json.error).toMatch(/binary frame of 2 bytes is too short/);

    const frame = binaryFrame({ id: 'x', model_name: 'tabular', inputs: [] }, new Uint8Array(0));
    frame.writeUInt32LE(frame.byteLength, 0);
    c.send(frame);
    m = await c.next();
    expect(m.json.error).toMatch(/JSON header length \d+ runs past the end of the frame/);

    // a tensor size that does not match the bytes sent is a per-request error with the id
    c.send(
      binaryFrame(
        { id: 'short', model_name: 'tabular', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16], parameters: { binary_data_size: 64 } }] },
        new Uint8Array(60),
      ),
    );
    m = await c.next();
    expect(m.json).toMatchObject({ id: 'short', code: 'SY_ERR_INVALID_INPUT' });
    expect(m.json.error).toMatch(/binary_data_size 64 runs past the end of the body/);
    expect(c.closeCode).toBeNull();
    c.close();
  });
});

describe('WebSocket streaming: metrics', () => {
  it('counts requests with protocol="ws" and shows open connections', async () => {
    // the server sees earlier tests' sockets close a moment after their clients
    while (gauge(await metricsText(), 'switchyard_ws_connections') !== 0) await sleep(5);
    const c = await StreamClient.open(t.url);
    const before = counter(await metricsText(), 'switchyard_requests_total', 'protocol="ws",status="success"');
    for (let i = 0; i < 5; i++) c.send(wsRequest(`m${i}`, tabularRows(1)));
    await c.take(5);
    const text = await metricsText();
    expect(counter(text, 'switchyard_requests_total', 'protocol="ws",status="success"') - before).toBe(5);
    expect(text).toMatch(/switchyard_request_duration_seconds_count\{model="tabular",version="2",protocol="ws"\} \d+/);
    expect(gauge(text, 'switchyard_ws_connections')).toBe(1);
    c.close();
    await c.closed;
    while (gauge(await metricsText(), 'switchyard_ws_connections') !== 0) await sleep(5);
  });

  it('is served only at /v2/stream, and only to WebSocket clients', async () => {
    await expect(StreamClient.open(t.url, '/v2/other')).rejects.toThrow(/404/);
    const plain = await fetch(`${t.url}/v2/stream`);
    expect(plain.status).toBe(400);
    expect(await plain.json()).toEqual({ error: '/v2/stream is a WebSocket endpoint: connect with a WebSocket client (ws://host:port/v2/stream)' });
  });
});
