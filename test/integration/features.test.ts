import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';
import { loadFeatures } from '../../src/features/index.js';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { floats } from './grpc-helpers.js';
import { counter, histogram, postJson, startTestServer, type TestServer } from '../helpers/server.js';
import { StreamClient } from '../helpers/stream-client.js';

const EXAMPLE_CONFIG = fileURLToPath(new URL('../../examples/switchyard.yaml', import.meta.url));
const CUSTOMERS = fileURLToPath(new URL('../../examples/features/customer.jsonl', import.meta.url));
const example = loadServerConfig(EXAMPLE_CONFIG, {});
const VIEW = example.features.views.customer;
const FIELDS = VIEW.fields;

/** Customer rows of the example file as the model input x: FP32 rows in the view's field order. */
const rowsById = new Map<string, number[]>(
  readFileSync(CUSTOMERS, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, number | string>)
    .map((r) => [r.customer_id as string, FIELDS.map((f) => Math.fround(Number(r[f])))]),
);

/** The server config sections that turn features on, as in examples/switchyard.yaml. */
function featureConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    features: { lookup_timeout_ms: 200, views: { customer: { ...VIEW, file: CUSTOMERS, ...extra } } },
    models: { tabular: { features: { input: 'x', views: ['customer'] } } },
  };
}

const byIds = (ids: string[]) => ({ inputs: [{ name: 'customer_id', datatype: 'BYTES', shape: [ids.length], data: ids }] });
const direct = (rows: number[][]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 16], data: rows }] });

type Outputs = { name: string; data: number[] }[];
const probabilities = (json: Record<string, unknown>): number[] => (json.outputs as Outputs).find((o) => o.name === 'probabilities')?.data ?? [];

describe('features from the in-memory store (no Redis), through every door', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(featureConfig());
  });
  afterAll(async () => {
    await t.stop();
  });

  it('REST: ids in, the model sees the customers\' rows; the response counts defaults', async () => {
    const ids = ['c1', 'c7', 'c42'];
    const viaIds = await postJson(`${t.url}/v2/models/tabular/infer`, byIds(ids));
    expect(viaIds.status).toBe(200);
    expect(viaIds.json.parameters).toEqual({ features_defaulted: 0 });
    const viaRows = await postJson(`${t.url}/v2/models/tabular/infer`, direct(ids.map((id) => rowsById.get(id)!)));
    expect(viaRows.status).toBe(200);
    expect(viaRows.json.parameters).toBeUndefined();
    expect(probabilities(viaIds.json)).toEqual(probabilities(viaRows.json));
  });

  it('an unknown customer takes the defaults, counted in the response and in the metrics', async () => {
    const r = await postJson(`${t.url}/v2/models/tabular/infer`, byIds(['c1', 'nobody']));
    expect(r.status).toBe(200);
    expect(r.json.parameters).toEqual({ features_defaulted: FIELDS.length });
    const defaults = FIELDS.map((f) => Math.fround(Number((VIEW.defaults as Record<string, number>)[f] ?? 0)));
    const expected = await postJson(`${t.url}/v2/models/tabular/infer`, direct([rowsById.get('c1')!, defaults]));
    expect(probabilities(r.json)).toEqual(probabilities(expected.json));
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(counter(metrics, 'switchyard_feature_defaults_total', 'reason="missing_entity"')).toBe(FIELDS.length);
  });

  it('more ids than max_batch_size are refused before any lookup', async () => {
    const lookups = async () => histogram(await (await fetch(`${t.url}/metrics`)).text(), 'switchyard_feature_lookup_duration_seconds', 'view="customer"').count;
    const before = await lookups();
    const ids = Array.from({ length: 200_000 }, (_, i) => `c${i}`);
    const r = await postJson(`${t.url}/v2/models/tabular/infer`, byIds(ids));
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('model "tabular": 200000 entity ids make a batch of 200000, larger than max_batch_size 64; split the request');
    expect(await lookups()).toBe(before);
  });

  it('a request without ids or x is a 400 that says what to send', async () => {
    const r = await postJson(`${t.url}/v2/models/tabular/infer`, { inputs: [{ name: 'other', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/customer_id/);
  });

  it('gRPC: the same ids give the same answer', async () => {
    const c = new GrpcInferenceClient(t.grpcAddress);
    try {
      const resp = await c.unary('modelInfer', {
        modelName: 'tabular',
        inputs: [{ name: 'customer_id', datatype: 'BYTES', shape: [2n], contents: { bytesContents: [Buffer.from('c3'), Buffer.from('c4')] } }],
      });
      const rest = await postJson(`${t.url}/v2/models/tabular/infer`, byIds(['c3', 'c4']));
      const k = resp.outputs.findIndex((o) => o.name === 'probabilities');
      expect(k).toBeGreaterThanOrEqual(0);
      expect(floats(resp.rawOutputContents[k])).toEqual(probabilities(rest.json));
      expect(resp.parameters.features_defaulted?.parameterChoice).toEqual({ case: 'int64Param', value: 0n });
    } finally {
      c.close();
    }
  });

  it('WebSocket: the same ids give the same answer', async () => {
    const ws = await StreamClient.open(t.url);
    try {
      ws.send({ id: 'w1', model_name: 'tabular', ...byIds(['c5']) });
      const [m] = await ws.take(1);
      const rest = await postJson(`${t.url}/v2/models/tabular/infer`, byIds(['c5']));
      expect(m.json?.id).toBe('w1');
      expect(probabilities(m.json as Record<string, unknown>)).toEqual(probabilities(rest.json));
      expect((m.json as Record<string, unknown>).parameters).toEqual({ features_defaulted: 0 });
    } finally {
      ws.ws.close();
    }
  });
});

describe('features from Redis', () => {
  let redis: TestRedis;
  let t: TestServer;
  beforeAll(async () => {
    redis = await startRedis();
    const loaded = await loadFeatures({ view: 'customer', views: { customer: VIEW }, file: CUSTOMERS, redisUrl: redis.url });
    expect(loaded.written).toBe(rowsById.size);
    t = await startTestServer({ ...featureConfig({ ttl_ms: 0 }), redis: { url: redis.url } });
  });
  afterAll(async () => {
    await t?.stop();
    await redis?.stop();
  });

  it('reads the rows the loader wrote; an outage costs defaults, never a failed request; recovery needs no restart', async () => {
    const ids = ['c10', 'c11'];
    const fromRedis = await postJson(`${t.url}/v2/models/tabular/infer`, byIds(ids));
    expect(fromRedis.status).toBe(200);
    expect(fromRedis.json.parameters).toEqual({ features_defaulted: 0 });
    const truth = probabilities((await postJson(`${t.url}/v2/models/tabular/infer`, direct(ids.map((id) => rowsById.get(id)!)))).json);
    expect(probabilities(fromRedis.json)).toEqual(truth);

    const port = redis.port;
    // load while Redis goes away
    const during = Array.from({ length: 60 }, (_, i) => postJson(`${t.url}/v2/models/tabular/infer`, byIds([`c${(i % 90) + 1}`])));
    await redis.stop();
    const after = await Promise.all([...during, ...Array.from({ length: 20 }, () => postJson(`${t.url}/v2/models/tabular/infer`, byIds(ids)))]);
    expect(after.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    const defaulted = after.map((r) => (r.json.parameters as { features_defaulted: number }).features_defaulted);
    expect(defaulted.at(-1)).toBe(2 * FIELDS.length);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(counter(metrics, 'switchyard_feature_defaults_total', 'reason="error"') + counter(metrics, 'switchyard_feature_defaults_total', 'reason="timeout"')).toBeGreaterThan(0);

    // Redis back on the same port, with its data loaded again: real values without a restart
    redis = await startRedis({ port });
    await loadFeatures({ view: 'customer', views: { customer: VIEW }, file: CUSTOMERS, redisUrl: redis.url });
    const deadline = Date.now() + 15_000;
    let back: Awaited<ReturnType<typeof postJson>> | null = null;
    while (Date.now() < deadline) {
      back = await postJson(`${t.url}/v2/models/tabular/infer`, byIds(ids));
      if ((back.json.parameters as { features_defaulted: number }).features_defaulted === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(back?.json.parameters).toEqual({ features_defaulted: 0 });
    expect(probabilities(back!.json)).toEqual(truth);
  });
});

