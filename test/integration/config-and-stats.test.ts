import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';

interface Duration {
  count: number;
  ns: number;
}
interface Stats {
  name: string;
  version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output' | 'cache_hit' | 'cache_miss', Duration>;
  batch_stats: { batch_size: number; compute_input: Duration; compute_infer: Duration; compute_output: Duration }[];
}

describe('model configuration and statistics over REST', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers the model configuration in Triton\'s shape, batch dimension left out of dims', async () => {
    const { status, json } = await getJson(`${t.url}/v2/models/tabular/config`);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      name: 'tabular',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 64,
      version_policy: { all: {} },
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [16] }],
      instance_group: [{ kind: 'KIND_CPU', count: 1 }],
      dynamic_batching: { max_queue_delay_microseconds: 0, default_queue_policy: { max_queue_size: 4096, timeout_action: 'REJECT' } },
    });
    const outputs = json.output as { name: string; data_type: string; dims: number[] }[];
    expect(outputs.length).toBeGreaterThan(0);
    for (const o of outputs) expect(o.dims.every((d) => d > 0 || d === -1)).toBe(true);
    const v1 = await getJson(`${t.url}/v2/models/tabular/versions/1/config`);
    expect(v1.status).toBe(200);
    expect(v1.json.name).toBe('tabular');
  });

  it('answers 404 with the reason for an unknown model or version', async () => {
    const a = await getJson(`${t.url}/v2/models/nope/config`);
    expect(a.status).toBe(404);
    expect(a.json.error).toMatch(/^Request for unknown model: 'nope' is not found; GET \/v2\/repository\/index/);
    const b = await getJson(`${t.url}/v2/models/tabular/versions/9/stats`);
    expect(b.status).toBe(404);
    expect(b.json.error).toMatch(/^Request for unknown model: 'tabular' version 9 is not found/);
  });

  it('counts successes, failures, queue and compute time and batch sizes per version', async () => {
    const before = (await getJson(`${t.url}/v2/models/tabular/versions/2/stats`)).json.model_stats as Stats[];
    expect(before).toHaveLength(1);
    const b = before[0];
    const sent = 5;
    for (let i = 0; i < sent; i++) {
      const r = await postJson(`${t.url}/v2/models/tabular/versions/2/infer`, tabularRequest(tabularRows(3, i + 1)));
      expect(r.status).toBe(200);
    }
    const bad = await postJson(`${t.url}/v2/models/tabular/versions/2/infer`, tabularRequest(tabularRows(65)));
    expect(bad.status).toBe(400);

    const after = ((await getJson(`${t.url}/v2/models/tabular/versions/2/stats`)).json.model_stats as Stats[])[0];
    expect(after).toMatchObject({ name: 'tabular', version: '2' });
    const s = after.inference_stats;
    expect(s.success.count - b.inference_stats.success.count).toBe(sent);
    expect(s.fail.count - b.inference_stats.fail.count).toBe(1);
    expect(s.queue.count - b.inference_stats.queue.count).toBe(sent);
    expect(s.compute_infer.count - b.inference_stats.compute_infer.count).toBe(sent);
    expect(s.success.ns).toBeGreaterThan(b.inference_stats.success.ns);
    expect(s.compute_infer.ns).toBeGreaterThan(b.inference_stats.compute_infer.ns);
    // sequential requests of 3 rows run alone: batches of 3 items
    expect(after.inference_count - b.inference_count).toBe(sent * 3);
    expect(after.execution_count - b.execution_count).toBe(sent);
    const three = after.batch_stats.find((x) => x.batch_size === 3);
    expect(three?.compute_infer.count).toBeGreaterThanOrEqual(sent);
    expect(after.last_inference).toBeGreaterThan(Date.now() - 60_000);
    expect(s.cache_hit).toEqual({ count: 0, ns: 0 });
  });

  it('lists every served version, of one model or of all', async () => {
    const all = (await getJson(`${t.url}/v2/models/stats`)).json.model_stats as Stats[];
    const names = all.map((x) => `${x.name}@${x.version}`);
    expect(names).toEqual(expect.arrayContaining(['tabular@1', 'tabular@2', 'heavy@1']));
    const tab = (await getJson(`${t.url}/v2/models/tabular/stats`)).json.model_stats as Stats[];
    expect(tab.map((x) => x.version)).toEqual(['1', '2']);
  });

  it('advertises the extensions', async () => {
    const { json } = await getJson(`${t.url}/v2`);
    expect(json.extensions).toEqual(expect.arrayContaining(['model_configuration', 'statistics']));
  });
});
