import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { counter, postJson, startTestServer } from '../helpers/server.js';
import { rejection } from './grpc-helpers.js';

// Every rejection is counted and logged: requests the transports refuse before the pipeline
// (malformed JSON, a body over the limit, an undecodable tensor, a bad gRPC message) appear
// in switchyard_requests_total and the request log like any other answered request.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('rejections before the pipeline', () => {
  it('REST and gRPC rejections change requests_total and the request log, with their error code', async () => {
    const logDir = mkdtempSync(path.join(tmpdir(), 'switchyard-rejections-'));
    dirs.push(logDir);
    const file = path.join(logDir, 'requests.jsonl');
    const t = await startTestServer({ http: { host: '127.0.0.1', port: 0, max_body_bytes: 4096 }, request_log: { sinks: [{ type: 'file', path: file }] } });
    const c = new GrpcInferenceClient(t.grpcAddress);
    try {
      const infer = `${t.url}/v2/models/tabular/infer`;
      const malformed = await postJson(infer, '{"inputs": [', { 'x-request-id': 'bad-json' });
      expect(malformed.status).toBe(400);
      expect(malformed.json.code).toBe('SY_ERR_MALFORMED_JSON');
      expect(malformed.headers.get('x-switchyard-error')).toBe('SY_ERR_MALFORMED_JSON');
      const big = await postJson(infer, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2000], data: new Array(2000).fill(1.5) }] });
      expect(big.status).toBe(413);
      expect(big.json.code).toBe('SY_ERR_BODY_TOO_LARGE');
      const undecodable = await postJson(infer, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16], data: ['a'] }] });
      expect(undecodable.status).toBe(400);
      const grpcBad = await rejection(c.unary('modelInfer', { modelName: 'tabular', id: 'bad-grpc', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 16n] }], rawInputContents: [new Uint8Array(3)] }));
      expect(grpcBad.details).toMatch(/x/);

      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(counter(metrics, 'switchyard_requests_total', 'status="SY_ERR_MALFORMED_JSON"')).toBe(1);
      expect(counter(metrics, 'switchyard_requests_total', 'status="SY_ERR_BODY_TOO_LARGE"')).toBe(1);
      expect(counter(metrics, 'switchyard_requests_total', 'protocol="grpc"')).toBe(1);
      expect(counter(metrics, 'switchyard_requests_total', 'protocol="rest"')).toBe(3);
    } finally {
      c.close();
      await t.stop();
    }
    const recs = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toHaveLength(4);
    expect(recs.find((r) => r.request_id === 'bad-json')).toMatchObject({ protocol: 'rest', model_name: 'tabular', status: 'SY_ERR_MALFORMED_JSON' });
    expect(recs.find((r) => r.request_id === 'bad-grpc')).toMatchObject({ protocol: 'grpc', model_name: 'tabular' });
    expect(recs.filter((r) => r.status === 'SY_ERR_BODY_TOO_LARGE')).toHaveLength(1);
  });
});
