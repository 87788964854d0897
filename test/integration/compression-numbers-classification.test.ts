/**
 * Triton's HTTP compression, its JSON numbers (NaN/Infinity tokens, exact 64-bit integers) and
 * its classification extension, against the real server with real clients (node:http, whose
 * bodies arrive exactly as sent, and grpc-js).
 */
import { status } from '@grpc/grpc-js';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { getJson, startTestServer, tabularRows, type TestServer } from '../helpers/server.js';
import { rejection } from './grpc-helpers.js';

const LIMIT = 1 << 20;

let t: TestServer;
let grpc: GrpcInferenceClient;
let grpcGzip: GrpcInferenceClient;
beforeAll(async () => {
  t = await startTestServer({
    http: { host: '127.0.0.1', port: 0, max_body_bytes: LIMIT },
    grpc: { host: '127.0.0.1', port: 0, max_receive_message_bytes: LIMIT },
  });
  grpc = new GrpcInferenceClient(t.grpcAddress);
  // grpc-js compresses every request message with gzip (2) on this channel
  grpcGzip = new GrpcInferenceClient(t.grpcAddress, { 'grpc.default_compression_algorithm': 2 });
});
afterAll(async () => {
  grpc.close();
  grpcGzip.close();
  await t.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** POST with exactly these bytes and headers; the answer's bytes as they came (never decompressed). */
function post(path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const url = new URL(path, t.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(bytes.byteLength), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

const json = (r: RawResponse): Record<string, unknown> => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

const simpleBody = JSON.stringify({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
  ],
});

describe('compressed request bodies (Content-Encoding)', () => {
  it('decodes gzip and deflate bodies before the request is read', async () => {
    for (const [coding, bytes] of [
      ['gzip', gzipSync(simpleBody)],
      ['deflate', deflateSync(simpleBody)],
      ['identity', Buffer.from(simpleBody)],
    ] as const) {
      const r = await post('/v2/models/simple/infer', bytes, { 'content-encoding': coding });
      expect(r.status, coding).toBe(200);
      const out = (json(r).outputs as { name: string; data: number[] }[]).find((o) => o.name === 'OUTPUT0');
      expect(out?.data).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    }
  });

  it('answers 413 for a small gzip bomb (limit on the decoded size), and keeps serving', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * LIMIT, 0x20));
    expect(bomb.byteLength).toBeLessThan(LIMIT);
    const r = await post('/v2/models/simple/infer', bomb, { 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(json(r).error).toMatch(/decompresses \(Content-Encoding: gzip\) to more than the limit of 1048576 bytes \(http\.max_body_bytes\)/);
    expect((await post('/v2/models/simple/infer', gzipSync(simpleBody), { 'content-encoding': 'gzip' })).status).toBe(200);
  });

  it('answers 400 for corrupt or truncated data, saying it is not valid gzip/deflate', async () => {
    const gz = gzipSync(simpleBody);
    const bad = await post('/v2/models/simple/infer', gz.subarray(0, gz.byteLength - 8), { 'content-encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(json(bad).error).toMatch(/^request body is not valid gzip data \(Content-Encoding: gzip\): unexpected end of file/);
    const notDeflate = await post('/v2/models/simple/infer', simpleBody, { 'content-encoding': 'deflate' });
    expect(notDeflate.status).toBe(400);
    expect(json(notDeflate).error).toMatch(/^request body is not valid deflate data/);
  });

  it('answers 415 for an unsupported coding, naming the supported ones', async () => {
    const r = await post('/v2/models/simple/infer', simpleBody, { 'content-encoding': 'br' });
    expect(r.status).toBe(415);
    expect(json(r).error).toBe('Content-Encoding "br" is not supported; send the body uncompressed, or compressed with gzip or deflate');
    // the connection stays usable: the next request works
    expect((await post('/v2/models/simple/infer', simpleBody)).status).toBe(200);
  });
});

const DTYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];

/**
 * A dtypes request (it needs every input): `given` maps a datatype to the JSON text of its
 * input's `"shape", "data"` part; the others get one [1, 1] element. Outputs: those of `given`.
 */
function dtypesBody(given: Record<string, string>, outputParams = ''): string {
  const inputs = DTYPES.map((dt) => {
    const part = given[dt] ?? `"shape": [1, 1], "data": [${dt === 'BOOL' ? 'true' : dt === 'BYTES' ? '"b"' : '1'}]`;
    return `{"name": "in_${dt.toLowerCase()}", "datatype": "${dt}", ${part}}`;
  });
  const outputs = Object.keys(given).map((dt) => `{"name": "out_${dt.toLowerCase()}"${outputParams}}`);
  return `{"inputs": [${inputs.join(', ')}], "outputs": [${outputs.join(', ')}]}`;
}

/** dtypes: in_fp32 [1, n] → out_fp32. */
function fp32Request(n: number, binary: boolean): string {
  const data = Array.from({ length: n }, (_, i) => i / 8);
  return dtypesBody({ FP32: `"shape": [1, ${n}], "data": ${JSON.stringify(data)}` }, `, "parameters": {"binary_data": ${binary}}`);
}

describe('compressed responses (Accept-Encoding)', () => {
  it('compresses with gzip or deflate and keeps Inference-Header-Content-Length the uncompressed JSON length', async () => {
    for (const [coding, undo] of [
      ['gzip', gunzipSync],
      ['deflate', inflateSync],
    ] as const) {
      const r = await post('/v2/models/dtypes/infer', fp32Request(2000, true), { 'accept-encoding': coding });
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBe(coding);
      const plain = undo(r.body);
      expect(r.body.byteLength).toBeLessThan(plain.byteLength);
      const headerLength = Number(r.headers['inference-header-content-length']);
      const header = JSON.parse(plain.subarray(0, headerLength).toString('utf8')) as { outputs: { parameters: { binary_data_size: number } }[] };
      expect(header.outputs[0].parameters.binary_data_size).toBe(8000);
      const values = new Float32Array(plain.buffer.slice(plain.byteOffset + headerLength, plain.byteOffset + plain.byteLength));
      expect(values.length).toBe(2000);
      expect(values[17]).toBe(17 / 8);
    }
  });

  it('compresses JSON responses too, and leaves small ones and clients that accept neither alone', async () => {
    const big = await post('/v2/models/dtypes/infer', fp32Request(500, false), { 'accept-encoding': 'br;q=1, gzip;q=0.5' });
    expect(big.headers['content-encoding']).toBe('gzip');
    expect((JSON.parse(gunzipSync(big.body).toString('utf8')) as { outputs: { data: number[] }[] }).outputs[0].data[3]).toBe(3 / 8);
    const small = await post('/v2/models/dtypes/infer', fp32Request(4, false), { 'accept-encoding': 'gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(json(small).outputs).toBeDefined();
    const none = await post('/v2/models/dtypes/infer', fp32Request(500, false), { 'accept-encoding': 'br' });
    expect(none.headers['content-encoding']).toBeUndefined();
  });
});

describe('JSON numbers as Triton reads and writes them', () => {
  it('takes bare NaN/Infinity/-Infinity tokens and answers with them (REST)', async () => {
    const body = dtypesBody({ FP64: '"shape": [1, 4], "data": [NaN, Infinity, -Infinity, 0.5]', FP16: '"shape": [1, 2], "data": [-Inf, NaN]' });
    const r = await post('/v2/models/dtypes/infer', body);
    expect(r.status).toBe(200);
    const text = r.body.toString('utf8');
    expect(text).toContain('"data":[NaN,Infinity,-Infinity,0.5]');
    expect(text).toContain('"data":[-Infinity,NaN]');
  });

  it('keeps INT64/UINT64 beyond ±2^53 exact both ways', async () => {
    const body = dtypesBody({
      INT64: '"shape": [1, 3], "data": [9223372036854775807, -9223372036854775808, 9007199254740993]',
      UINT64: '"shape": [1, 2], "data": [18446744073709551615, 18446744073709551614]',
    });
    const r = await post('/v2/models/dtypes/infer', body);
    expect(r.status).toBe(200);
    const text = r.body.toString('utf8');
    expect(text).toContain('"data":[9223372036854775807,-9223372036854775808,9007199254740993]');
    expect(text).toContain('"data":[18446744073709551615,18446744073709551614]');
  });
});

function tabularBody(rows: number[][], outputs: unknown[]): string {
  return JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 16], data: rows }], outputs });
}

/** "score:index:label" strings must be the top-k of the raw probabilities, as std::to_string prints them. */
function expectedTopK(probs: number[], k: number, labels: string[]): string[] {
  return probs
    .map((p, i) => [p, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([p, i]) => `${p.toFixed(6)}:${i}:${labels[i]}`);
}

describe('classification extension', () => {
  const rows = tabularRows(3, 7);
  const labels = ['low', 'medium', 'high'];

  it('lists the extension and names the labels file in the model config', async () => {
    expect((await getJson(`${t.url}/v2`)).json.extensions).toContain('classification');
    const config = (await getJson(`${t.url}/v2/models/tabular/config`)).json as { output: { name: string; label_filename?: string }[] };
    expect(config.output.find((o) => o.name === 'probabilities')?.label_filename).toBe('labels.txt');
    expect(config.output.find((o) => o.name === 'label')?.label_filename).toBeUndefined();
  });

  it('answers top-k as BYTES [batch, k] "score:index:label", in JSON and binary, k clamped to the classes', async () => {
    const raw = json(await post('/v2/models/tabular/infer', tabularBody(rows, [{ name: 'probabilities' }])));
    const probs = (raw.outputs as { data: number[] }[])[0].data;
    const r = await post('/v2/models/tabular/infer', tabularBody(rows, [{ name: 'probabilities', parameters: { classification: 2 } }, { name: 'label' }]));
    expect(r.status).toBe(200);
    const outs = json(r).outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
    expect(outs[0]).toMatchObject({ name: 'probabilities', datatype: 'BYTES', shape: [3, 2] });
    for (let b = 0; b < 3; b++) expect(outs[0].data.slice(b * 2, b * 2 + 2)).toEqual(expectedTopK(probs.slice(b * 3, b * 3 + 3), 2, labels));
    expect(outs[1]).toMatchObject({ name: 'label', datatype: 'INT64', shape: [3] });

    const clamped = json(await post('/v2/models/tabular/infer', tabularBody(rows.slice(0, 1), [{ name: 'probabilities', parameters: { classification: 10 } }])));
    expect((clamped.outputs as { shape: number[] }[])[0].shape).toEqual([1, 3]);

    const bin = await post('/v2/models/tabular/infer', tabularBody(rows.slice(0, 1), [{ name: 'probabilities', parameters: { classification: 1, binary_data: true } }]));
    const headerLength = Number(bin.headers['inference-header-content-length']);
    const len = bin.body.readUInt32LE(headerLength);
    expect(bin.body.subarray(headerLength + 4, headerLength + 4 + len).toString('utf8')).toBe(expectedTopK(probs.slice(0, 3), 1, labels)[0]);
  });

  it('refuses classification of a non-numeric output, or a bad count, with a 400 before running', async () => {
    const bad = await post('/v2/models/simple_string/infer', JSON.stringify({
      inputs: [
        { name: 'INPUT0', datatype: 'BYTES', shape: [1, 16], data: Array.from({ length: 16 }, () => '1') },
        { name: 'INPUT1', datatype: 'BYTES', shape: [1, 16], data: Array.from({ length: 16 }, () => '2') },
      ],
      outputs: [{ name: 'OUTPUT0', parameters: { classification: 1 } }],
    }));
    expect(bad.status).toBe(400);
    expect(json(bad).error).toBe('output "OUTPUT0": classification needs a numeric output, and "OUTPUT0" is BYTES; request it without parameters.classification');
    const zero = await post('/v2/models/tabular/infer', tabularBody(rows, [{ name: 'probabilities', parameters: { classification: 0 } }]));
    expect(zero.status).toBe(400);
  });

  it('answers gRPC class_count (parameters["classification"].int64_param) the same way', async () => {
    const resp = await grpc.unary('modelInfer', {
      modelName: 'tabular',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 16n], contents: { fp32Contents: rows[0] } }],
      outputs: [{ name: 'probabilities', parameters: { classification: { parameterChoice: { case: 'int64Param', value: 3n } } } }],
    });
    expect(resp.outputs[0].datatype).toBe('BYTES');
    expect(resp.outputs[0].shape).toEqual([1n, 3n]);
    let strings: string[];
    if (resp.rawOutputContents.length > 0) {
      const b = Buffer.from(resp.rawOutputContents[0]);
      strings = [];
      for (let off = 0; off < b.byteLength; ) {
        const n = b.readUInt32LE(off);
        strings.push(b.subarray(off + 4, off + 4 + n).toString('utf8'));
        off += 4 + n;
      }
    } else {
      strings = (resp.outputs[0].contents?.bytesContents ?? []).map((x) => Buffer.from(x).toString('utf8'));
    }
    const raw = json(await post('/v2/models/tabular/infer', tabularBody(rows.slice(0, 1), [{ name: 'probabilities' }])));
    expect(strings).toEqual(expectedTopK((raw.outputs as { data: number[] }[])[0].data, 3, labels));
  });
});

describe('gRPC compression', () => {
  it('decodes gzip-compressed requests (grpc-js)', async () => {
    const resp = await grpcGzip.unary('modelInfer', {
      modelName: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1n, 16n], contents: { intContents: Array.from({ length: 16 }, (_, i) => i) } },
        { name: 'INPUT1', datatype: 'INT32', shape: [1n, 16n], contents: { intContents: Array.from({ length: 16 }, () => 2) } },
      ],
    });
    const out0 = resp.rawOutputContents.length > 0 ? Array.from(new Int32Array(new Uint8Array(resp.rawOutputContents[0]).buffer)) : resp.outputs[0].contents?.intContents;
    expect(out0).toEqual(Array.from({ length: 16 }, (_, i) => i + 2));
  });

  it('refuses a message that decompresses past max_receive_message_bytes with RESOURCE_EXHAUSTED', async () => {
    const err = await rejection(
      grpcGzip.unary('modelInfer', {
        modelName: 'dtypes',
        inputs: [{ name: 'in_uint8', datatype: 'UINT8', shape: [1n, BigInt(2 * LIMIT)] }],
        rawInputContents: [new Uint8Array(2 * LIMIT)],
      }),
    );
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    // the frame was small (compressed): it is the decoded size that was refused
    expect(err.details).toMatch(/decompresses to a size larger than 1048576/);
  });
});

describe('labels files', () => {
  const configPath = (): string => join(t.dir, 'models', 'tabular', 'config.yaml');

  it('a load whose labels file is missing, outside the folder, or names an unknown output fails, naming the key', async () => {
    const original = readFileSync(configPath(), 'utf8');
    try {
      for (const [outputs, message] of [
        ['{ probabilities: { label_filename: missing.txt } }', 'outputs.probabilities.label_filename: "missing.txt" is not a file in the model\'s folder (tabular/)'],
        ['{ probabilities: { label_filename: ../simple/config.yaml } }', 'outputs.probabilities.label_filename: "../simple/config.yaml" is not a file in the model\'s folder (tabular/)'],
        ['{ nope: { label_filename: labels.txt } }', 'outputs.nope: the model has no output "nope"; its outputs are "probabilities", "label"'],
      ] as const) {
        writeFileSync(configPath(), original.replace(/^outputs: .*$/m, `outputs: ${outputs}`));
        const r = await post('/v2/repository/models/tabular/load', '');
        expect(r.status, outputs).toBe(400);
        expect(String(json(r).error)).toContain(message);
      }
    } finally {
      writeFileSync(configPath(), original);
    }
    expect((await post('/v2/repository/models/tabular/load', '')).status).toBe(200);
    const r = await post('/v2/models/tabular/infer', tabularBody(tabularRows(1), [{ name: 'probabilities', parameters: { classification: 1 } }]));
    expect((json(r).outputs as { data: string[] }[])[0].data[0]).toMatch(/^\d\.\d{6}:\d:(low|medium|high)$/);
  });
});
