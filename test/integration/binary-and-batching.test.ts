import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counter, histogram, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

/** Builds a request the way Triton's HTTP client does with binary_data=True. */
function tritonBinaryRequest(rows: number[][], binaryOutputs: string[]): { body: Buffer; headerLength: number } {
  const x = Float32Array.from(rows.flat());
  const header = JSON.stringify({
    inputs: [{ name: 'x', shape: [rows.length, 16], datatype: 'FP32', parameters: { binary_data_size: x.byteLength } }],
    outputs: binaryOutputs.map((name) => ({ name, parameters: { binary_data: true } })),
  });
  const json = Buffer.from(header, 'utf8');
  return { body: Buffer.concat([json, Buffer.from(x.buffer, x.byteOffset, x.byteLength)]), headerLength: json.byteLength };
}

describe('Triton binary tensor extension', () => {
  it('reads binary inputs and writes binary outputs that match the JSON answer', async () => {
    const rows = tabularRows(4, 7);
    const { body, headerLength } = tritonBinaryRequest(rows, ['probabilities', 'label']);
    const res = await fetch(`${t.url}/v2/models/tabular/infer`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
    });
    expect(res.status).toBe(200);
    const hl = Number(res.headers.get('inference-header-content-length'));
    expect(hl).toBeGreaterThan(0);
    const raw = Buffer.from(await res.arrayBuffer());
    const header = JSON.parse(raw.subarray(0, hl).toString('utf8')) as { outputs: { name: string; shape: number[]; parameters: { binary_data_size: number } }[] };
    expect(header.outputs.map((o) => o.name)).toEqual(['probabilities', 'label']);
    const probsSize = header.outputs[0].parameters.binary_data_size;
    const labelSize = header.outputs[1].parameters.binary_data_size;
    expect(probsSize).toBe(4 * 3 * 4);
    expect(labelSize).toBe(4 * 8);
    expect(raw.byteLength).toBe(hl + probsSize + labelSize);
    const probs = new Float32Array(raw.buffer.slice(raw.byteOffset + hl, raw.byteOffset + hl + probsSize));
    const labels = new BigInt64Array(raw.buffer.slice(raw.byteOffset + hl + probsSize, raw.byteOffset + hl + probsSize + labelSize));

    const json = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(rows));
    const outputs = json.json.outputs as { data: number[] }[];
    expect(Array.from(probs)).toEqual(outputs[0].data);
    expect(Array.from(labels, Number)).toEqual(outputs[1].data);
  });

  it('mixes binary and JSON outputs, and honours binary_data_output', async () => {
    const rows = tabularRows(2, 3);
    const { body, headerLength } = tritonBinaryRequest(rows, ['label']);
    const res = await fetch(`${t.url}/v2/models/tabular/infer`, {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': String(headerLength) },
    });
    const hl = Number(res.headers.get('inference-header-content-length'));
    const raw = Buffer.from(await res.arrayBuffer());
    const header = JSON.parse(raw.subarray(0, hl).toString('utf8')) as { outputs: { name: string; data?: number[] }[] };
    expect(header.outputs.map((o) => o.name)).toEqual(['label']);
    expect(raw.byteLength - hl).toBe(16);

    const all = await fetch(`${t.url}/v2/models/tabular/infer`, {
      method: 'POST',
      body: JSON.stringify(tabularRequest(rows, { parameters: { binary_data_output: true } })),
    });
    const allHl = Number(all.headers.get('inference-header-content-length'));
    const allRaw = Buffer.from(await all.arrayBuffer());
    expect(allRaw.byteLength - allHl).toBe(2 * 3 * 4 + 2 * 8);
  });

  it('rejects a binary section that does not match the header', async () => {
    const rows = tabularRows(2);
    const { body, headerLength } = tritonBinaryRequest(rows, []);
    const res = await fetch(`${t.url}/v2/models/tabular/infer`, {
      method: 'POST',
      body: body.subarray(0, body.byteLength - 8),
      headers: { 'inference-header-content-length': String(headerLength) },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/binary_data_size/);
    const bad = await fetch(`${t.url}/v2/models/tabular/infer`, { method: 'POST', body, headers: { 'inference-header-content-length': 'abc' } });
    expect(bad.status).toBe(400);
  });
});

describe('dynamic batching', () => {
  it('forms batches larger than one under 64 concurrent requests, with outputs equal to running each alone', async () => {
    const n = 64;
    const rows = Array.from({ length: n }, (_, i) => tabularRows(1 + (i % 3), 100 + i));
    // each request alone, one after the other: no batching possible
    const alone: { data: number[] }[][] = [];
    for (const r of rows) {
      const res = await postJson(`${t.url}/v2/models/tabular/versions/1/infer`, tabularRequest(r));
      alone.push(res.json.outputs as { data: number[] }[]);
    }
    const before = histogram(await (await fetch(`${t.url}/metrics`)).text(), 'switchyard_batch_size', 'version="1"');
    const together = await Promise.all(rows.map((r) => postJson(`${t.url}/v2/models/tabular/versions/1/infer`, tabularRequest(r))));
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const after = histogram(metrics, 'switchyard_batch_size', 'version="1"');
    const items = after.sum - before.sum;
    const batches = after.count - before.count;
    expect(items).toBe(rows.reduce((a, r) => a + r.length, 0));
    expect(batches).toBeLessThan(n); // some batch held more than one request
    expect(items / batches).toBeGreaterThan(1);
    for (let i = 0; i < n; i++) {
      expect(together[i].status).toBe(200);
      const got = together[i].json.outputs as { data: number[] }[];
      got[0].data.forEach((v, j) => expect(Math.abs(v - alone[i][0].data[j])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
      expect(got[1].data).toEqual(alone[i][1].data); // integer output: exact
    }
    expect(counter(metrics, 'switchyard_batches_total', 'version="1"')).toBeGreaterThan(0);
  });
});
