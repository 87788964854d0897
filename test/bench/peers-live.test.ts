/**
 * The uWS peer (bench/servers/peer-uws-inline.ts) against the node:http peer on the tabular
 * example: the exact bodies the bench sends (KServe v2 JSON and Triton's binary extension)
 * get the same answers from both, with correct OIP outputs. The Python peers (mlserver,
 * kserve) need .venv-bench and are not run here.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeer, startPeerUws } from '../../bench/lib/ceiling.js';
import { restTarget } from '../../bench/lib/doors.js';
import type { ServerProcess } from '../../bench/lib/processes.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODEL = path.join(REPO_ROOT, 'examples', 'models', 'tabular', '1', 'model.onnx');
const ROW = [0.42, -1.3, 0.07, 2.5, -0.61, 1.18, 0.0, -2.2, 0.93, 0.33, -0.05, 1.77, -1.02, 0.5, 0.26, -0.88];

interface Answer {
  status: number;
  body: { model_name: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
}

async function infer(s: ServerProcess, door: 'rest' | 'rest-binary'): Promise<Answer> {
  const t = restTarget(door, { baseUrl: `http://127.0.0.1:${s.port}`, grpcAddress: '', model: 'tabular', row: ROW });
  const res = await fetch(t.url, { method: 'POST', body: t.body, headers: t.headers });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

describe('the uWS inline peer', () => {
  let uws: ServerProcess;
  let http: ServerProcess;
  beforeAll(async () => {
    [uws, http] = await Promise.all([startPeerUws(REPO_ROOT, MODEL), startPeer(REPO_ROOT, MODEL)]);
  });
  afterAll(async () => {
    await Promise.all([uws?.stop(), http?.stop()]);
  });

  it('reports its uWS build and ORT version', () => {
    expect(uws.facts.uws).toMatch(/^(native|js-fallback)$/);
    expect(uws.facts.ort).toMatch(/^onnxruntime-node \d+\.\d+/);
  });

  for (const door of ['rest', 'rest-binary'] as const) {
    it(`answers a ${door === 'rest' ? 'JSON' : 'binary-extension'} infer with the node:http peer's outputs`, async () => {
      const [a, b] = await Promise.all([infer(uws, door), infer(http, door)]);
      expect(a.status).toBe(200);
      expect(a.body).toEqual(b.body);
      const [probabilities, label] = a.body.outputs;
      expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [1, 3] });
      expect(probabilities.data.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
      expect(label).toMatchObject({ name: 'label', datatype: 'INT64', shape: [1] });
      expect(label.data[0]).toBe(probabilities.data.indexOf(Math.max(...probabilities.data)));
    });
  }

  it('refuses a body it cannot read with 400, and other paths with 404', async () => {
    const bad = await fetch(`http://127.0.0.1:${uws.port}/v2/models/tabular/infer`, { method: 'POST', body: '{"inputs":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/JSON/);
    expect((await fetch(`http://127.0.0.1:${uws.port}/v2/models/tabular`)).status).toBe(404);
  });
});
