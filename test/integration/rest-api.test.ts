import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ http: { host: '127.0.0.1', port: 0, max_body_bytes: 65536 } });
});
afterAll(async () => {
  await t.stop();
});

describe('health and metadata', () => {
  it('answers liveness and readiness', async () => {
    expect(await getJson(`${t.url}/v2/health/live`)).toEqual({ status: 200, json: { live: true } });
    expect(await getJson(`${t.url}/v2/health/ready`)).toEqual({ status: 200, json: { ready: true } });
  });

  it('describes the server with its extensions', async () => {
    const { status, json } = await getJson(`${t.url}/v2`);
    expect(status).toBe(200);
    expect(json.name).toBe('switchyard');
    expect(json.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'model_repository']));
  });

  it('serves model metadata read from the ONNX model', async () => {
    const { status, json } = await getJson(`${t.url}/v2/models/tabular`);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      name: 'tabular',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 16] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
      parameters: { version: '2', max_batch_size: 64, execution_provider: 'cpu' },
    });
    const v1 = await getJson(`${t.url}/v2/models/tabular/versions/1`);
    expect(v1.status).toBe(200);
    expect(v1.json).toMatchObject({ name: 'tabular', versions: ['1'], parameters: { version: '1' } });
  });

  it('answers model readiness', async () => {
    expect((await getJson(`${t.url}/v2/models/tabular/ready`)).status).toBe(200);
    expect((await getJson(`${t.url}/v2/models/tabular/versions/1/ready`)).json).toEqual({ name: 'tabular', version: '1', ready: true });
    expect((await getJson(`${t.url}/v2/models/nope/ready`)).status).toBe(404);
    expect((await getJson(`${t.url}/v2/models/tabular/versions/9/ready`)).status).toBe(404);
  });

  it('answers 404 with a useful message for unknown models, versions and endpoints', async () => {
    const m = await getJson(`${t.url}/v2/models/nope`);
    expect(m.status).toBe(404);
    expect(m.json.error).toMatch(/^Request for unknown model: 'nope' is not found; GET \/v2\/repository\/index/);
    const v = await getJson(`${t.url}/v2/models/tabular/versions/7`);
    expect(v.status).toBe(404);
    expect(v.json.error).toMatch(/Request for unknown model: 'tabular' version 7 is not found/);
    const e = await getJson(`${t.url}/v3/whatever`);
    expect(e.status).toBe(404);
    expect(e.json.error).toMatch(/no endpoint GET \/v3\/whatever/);
  });
});

describe('infer (JSON)', () => {
  it('runs the newest version by default and a named version on request', async () => {
    const rows = tabularRows(3);
    const latest = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(rows, { id: 'req-1' }));
    expect(latest.status).toBe(200);
    expect(latest.json).toMatchObject({ id: 'req-1', model_name: 'tabular', model_version: '2' });
    expect(latest.headers.get('x-request-id')).toBe('req-1');
    const outputs = latest.json.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[];
    expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['probabilities', 'FP32', [3, 3]],
      ['label', 'INT64', [3]],
    ]);
    for (let r = 0; r < 3; r++) {
      const row = outputs[0].data.slice(r * 3, r * 3 + 3);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(outputs[1].data[r]).toBe(row.indexOf(Math.max(...row)));
    }
    const v1 = await postJson(`${t.url}/v2/models/tabular/versions/1/infer`, tabularRequest(rows));
    expect(v1.status).toBe(200);
    expect(v1.json.model_version).toBe('1');
    expect((v1.json.outputs as { data: number[] }[])[0].data).not.toEqual(outputs[0].data);
  });

  it('generates a request id when the client sends none, and honours x-request-id', async () => {
    const a = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)));
    expect(typeof a.json.id).toBe('string');
    expect((a.json.id as string).length).toBeGreaterThan(0);
    expect(a.headers.get('x-request-id')).toBe(a.json.id);
    const b = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)), { 'x-request-id': 'abc-123' });
    expect(b.json.id).toBe('abc-123');
  });

  it('returns only the requested outputs, in the requested order', async () => {
    const r = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(2), { outputs: [{ name: 'label' }] }));
    expect(r.status).toBe(200);
    expect((r.json.outputs as { name: string }[]).map((o) => o.name)).toEqual(['label']);
  });

  it('round-trips every datatype through the dtypes model in JSON', async () => {
    const inputs = [
      { name: 'in_bool', datatype: 'BOOL', shape: [1, 3], data: [true, false, true] },
      { name: 'in_uint8', datatype: 'UINT8', shape: [1, 2], data: [0, 255] },
      { name: 'in_uint16', datatype: 'UINT16', shape: [1, 2], data: [0, 65535] },
      { name: 'in_uint32', datatype: 'UINT32', shape: [1, 2], data: [0, 4294967295] },
      { name: 'in_uint64', datatype: 'UINT64', shape: [1, 2], data: [0, 9007199254740991] },
      { name: 'in_int8', datatype: 'INT8', shape: [1, 2], data: [-128, 127] },
      { name: 'in_int16', datatype: 'INT16', shape: [1, 2], data: [-32768, 32767] },
      { name: 'in_int32', datatype: 'INT32', shape: [1, 2], data: [-2147483648, 2147483647] },
      { name: 'in_int64', datatype: 'INT64', shape: [1, 2], data: [-9007199254740991, 9007199254740991] },
      { name: 'in_fp16', datatype: 'FP16', shape: [1, 3], data: [0.5, -2, 65504] },
      { name: 'in_fp32', datatype: 'FP32', shape: [1, 2], data: [1.5, -0.25] },
      { name: 'in_fp64', datatype: 'FP64', shape: [1, 2], data: [Math.PI, -1e300] },
      { name: 'in_bytes', datatype: 'BYTES', shape: [1, 2], data: ['hello', 'wörld ✓'] },
    ];
    const r = await postJson(`${t.url}/v2/models/dtypes/infer`, { inputs });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const outputs = r.json.outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
    for (const input of inputs) {
      const out = outputs.find((o) => o.name === input.name.replace('in_', 'out_'));
      expect(out, input.name).toBeDefined();
      expect(out!.datatype).toBe(input.datatype);
      expect(out!.shape).toEqual(input.shape);
      expect(out!.data).toEqual(input.data);
    }
  });

  it('accepts nested and flat data alike', async () => {
    const rows = tabularRows(2);
    const nested = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(rows));
    const flat = await postJson(`${t.url}/v2/models/tabular/infer`, { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 16], data: rows.flat() }] });
    expect(flat.json.outputs).toEqual(nested.json.outputs);
  });
});

describe('bad input is answered, never crashes', () => {
  const infer = (body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => postJson(`${t.url}/v2/models/tabular/infer`, body);

  it('malformed JSON → 400', async () => {
    const r = await infer('{"inputs": [');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/malformed JSON/);
  });

  it('missing input → 400 naming what is expected', async () => {
    const r = await infer({ inputs: [] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/"x" \(FP32 \[-1,16\]\)/);
  });

  it('extra input → 400', async () => {
    const r = await infer({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 16], data: new Array(16).fill(0) },
        { name: 'y', datatype: 'FP32', shape: [1, 1], data: [0] },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/unexpected input "y"/);
  });

  it('wrong datatype → 400', async () => {
    const r = await infer({ inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 16], data: new Array(16).fill(0) }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('input "x": expected FP32 [-1,16], got FP64 [1,16]');
  });

  it('shape that does not match the signature → 400', async () => {
    const r = await infer({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 15], data: new Array(30).fill(0) }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('input "x": expected FP32 [-1,16], got FP32 [2,15]');
  });

  it('data length different from the shape → 400', async () => {
    const r = await infer({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 16], data: new Array(31).fill(0) }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/31/);
    expect(r.json.error).toMatch(/32/);
  });

  it('batch larger than max_batch_size → 400', async () => {
    const r = await infer(tabularRequest(tabularRows(65)));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/batch size 65 is larger than max_batch_size 64/);
  });

  it('body over the configured limit → 413, and the server keeps serving', async () => {
    const big = JSON.stringify(tabularRequest(tabularRows(64))) + ' '.repeat(70_000);
    const r = await fetch(`${t.url}/v2/models/tabular/infer`, { method: 'POST', body: big, headers: { 'content-type': 'application/json' } }).catch((e: unknown) => e);
    if (r instanceof Response) {
      expect(r.status).toBe(413);
      expect(((await r.json()) as { error: string }).error).toMatch(/over the limit of 65536 bytes/);
    }
    const ok = await infer(tabularRequest(tabularRows(1)));
    expect(ok.status).toBe(200);
  });

  it('unknown model or version → 404', async () => {
    expect((await postJson(`${t.url}/v2/models/nope/infer`, tabularRequest(tabularRows(1)))).status).toBe(404);
    expect((await postJson(`${t.url}/v2/models/tabular/versions/5/infer`, tabularRequest(tabularRows(1)))).status).toBe(404);
  });

  it('refuses model names that try to leave the repository, encoded or not', async () => {
    // fetch() normalises '..' and '%2e%2e' away, so those go over a raw socket below
    for (const name of ['..%2F..%2Fetc', '%2Fetc%2Fpasswd', '.hidden', 'a%00b']) {
      const r = await getJson(`${t.url}/v2/models/${name}`);
      expect(r.status, name).toBe(400);
      expect(r.json.error, name).toMatch(/invalid model name/);
    }
    const v = await getJson(`${t.url}/v2/models/tabular/versions/..%2F1`);
    expect(v.status).toBe(400);
    for (const name of ['..', '%2e%2e', '.%2E']) {
      const raw = await rawRequest(t.url, `GET /v2/models/${name}/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(raw, name).toMatch(/^HTTP\/1\.1 400/);
      expect(raw, name).toMatch(/invalid model name/);
    }
  });

  it('answers a garbage stream of requests and stays up', async () => {
    const bodies = ['', 'null', '[]', '{"inputs": 5}', '{"inputs": [{"name": 1}]}', '{"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 16], "data": []}]}', '\u0000\u0001'];
    for (const b of bodies) {
      const r = await infer(b);
      expect(r.status, b).toBe(400);
      expect(typeof r.json.error, b).toBe('string');
    }
    expect((await getJson(`${t.url}/v2/health/live`)).status).toBe(200);
  });
});

describe('repository control without an admin token', () => {
  it('is answered to loopback clients', async () => {
    const r = await postJson(`${t.url}/v2/repository/index`, {});
    expect(r.status).toBe(200);
    expect((r.json as unknown as { name: string }[]).map((e) => e.name)).toContain('tabular');
  });
});

describe('v1 predict shim', () => {
  it('maps instances to predictions', async () => {
    const rows = tabularRows(2);
    const r = await postJson(`${t.url}/v1/models/tabular:predict`, { instances: rows });
    expect(r.status).toBe(200);
    const v2 = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(rows));
    const probs = (v2.json.outputs as { data: number[] }[])[0].data;
    const predictions = r.json.predictions as { probabilities: number[]; label: number }[];
    expect(predictions).toHaveLength(2);
    expect(predictions[0].probabilities).toEqual(probs.slice(0, 3));
    expect(predictions[1].label).toBe((v2.json.outputs as { data: number[] }[])[1].data[1]);
  });

  it('answers 404 for other v1 verbs', async () => {
    expect((await postJson(`${t.url}/v1/models/tabular:explain`, { instances: [] })).status).toBe(404);
  });
});

describe('metrics', () => {
  it('exports request, latency, batch and model metrics in Prometheus format', async () => {
    await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(1)));
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    for (const name of [
      'switchyard_requests_total{model="tabular",version="2",protocol="rest",status="success"}',
      'switchyard_request_duration_seconds_bucket{le="0.0001",model="tabular"',
      'switchyard_queue_duration_seconds_bucket',
      'switchyard_compute_duration_seconds_bucket',
      'switchyard_batch_size_bucket',
      'switchyard_batches_total{model="tabular",version="2",reason=',
      'switchyard_queue_depth{model="tabular",version="1"} 0',
      'switchyard_model_instances{model="tabular",version="1"} 1',
      'switchyard_model_execution_provider{model="tabular",version="1",provider="cpu"} 1',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toMatch(/switchyard_requests_total\{model="",version="",protocol="rest",status="SY_ERR_MODEL_NOT_FOUND"\} \d+/);
  });
});

/** Sends bytes as they are (no client-side path normalisation) and returns the whole answer. */
function rawRequest(url: string, text: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}
