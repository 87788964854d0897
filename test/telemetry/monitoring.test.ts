import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';
import { InferRequest, InferResponse, Tensor, queueFull, type ModelSignature } from '../../src/core/index.js';
import { Monitoring } from '../../src/telemetry/monitoring.js';
import { Tracing } from '../../src/telemetry/tracing.js';
import { metricValue, recordingLogger } from './helpers.js';

const SIGNATURE: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
};
const V1 = { name: 'tabular', version: '1', signature: SIGNATURE };
const V2 = { name: 'tabular', version: '2', signature: SIGNATURE };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchyard-monitoring-'));
  mkdirSync(path.join(dir, 'models'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function create(yaml: string) {
  const file = path.join(dir, 'switchyard.yaml');
  writeFileSync(file, `model_repository: ./models\n${yaml}`);
  const config = loadServerConfig(file, {});
  const registry = new Registry();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const monitoring = await Monitoring.create({ config, registry, log: recordingLogger(), tracing: Tracing.withTracer(provider.getTracer('t')), driftTimer: false });
  return { monitoring, registry };
}

function request(id: string, rows: number[][]): InferRequest {
  const req = new InferRequest('tabular', null, [new Tensor('x', 'FP32', [rows.length, 2], Float32Array.from(rows.flat()))], 'rest', performance.now() - 2);
  req.id = id;
  return req;
}

function response(req: InferRequest, version: string, classes: number[]): InferResponse {
  const probs = new Float32Array(classes.length * 3).fill(0.1);
  classes.forEach((c, r) => (probs[r * 3 + c] = 0.8));
  const resp = new InferResponse(req.id, 'tabular', version, [new Tensor('probabilities', 'FP32', [classes.length, 3], probs)]);
  resp.queueUs = 120;
  resp.computeUs = 340;
  resp.batchSize = 8;
  return resp;
}

const records = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('Monitoring', () => {
  it('records every request, error and shadow call in the configured file, with route, trace, latencies, summary and sampled payload', async () => {
    const { monitoring } = await create('request_log:\n  sinks:\n    - { type: file, path: logs/requests.jsonl }\n  payload_sample_rate: 1\n');
    const span = monitoring.tracing.startRequestSpan(null, { requestId: 'ok-1', model: 'fraud', protocol: 'rest' });
    const ok = request('ok-1', [[1, 2]]);
    monitoring.requestDone(ok, V2, response(ok, '2', [2]), null, { route: 'fraud', policy: 'canary', target: 'tabular/2', canaryStep: 1, span, featuresUs: 50 });
    const shadow = request('ok-1', [[1, 2]]);
    monitoring.requestDone(shadow, V1, response(shadow, '1', [0]), null, { route: 'fraud', policy: 'shadow', target: 'tabular/1', shadow: true });
    const rejected = request('full-1', [[3, 4]]);
    monitoring.requestDone(rejected, V1, null, queueFull('tabular', '1', 16));
    const unknown = new InferRequest('nope', '7', [], 'grpc', performance.now());
    unknown.id = 'nf-1';
    monitoring.requestDone(unknown, null, null, queueFull('nope', '7', 1));
    await monitoring.close();

    const [primary, shadowRecord, full, notFound] = records(path.join(dir, 'logs', 'requests.jsonl'));
    expect(primary).toMatchObject({
      request_id: 'ok-1',
      trace_id: monitoring.tracing.traceId(span),
      protocol: 'rest',
      route: 'fraud',
      policy: 'canary',
      target: 'tabular/2',
      canary_step: 1,
      shadow: false,
      model_name: 'tabular',
      model_version: '2',
      status: 'success',
      error: null,
      latency_us: { features: 50, queue: 120, compute: 340 },
      batch_size: 8,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }],
      outputs: [{ name: 'probabilities', argmax: [2] }],
      payload: { inputs: [{ name: 'x', data: [1, 2] }], outputs: [{ name: 'probabilities', shape: [1, 3] }] },
    });
    expect((primary.latency_us as { total: number }).total).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - Date.parse(primary.time as string)).toBeLessThan(60_000);
    expect(shadowRecord).toMatchObject({ request_id: 'ok-1', shadow: true, policy: 'shadow', model_version: '1', outputs: [{ argmax: [0] }] });
    expect(full).toMatchObject({ request_id: 'full-1', model_version: '1', status: 'SY_ERR_QUEUE_FULL', outputs: null, batch_size: 0, payload: { outputs: null } });
    expect(full.error).toMatch(/queue is full/);
    expect(notFound).toMatchObject({ request_id: 'nf-1', model_name: 'nope', model_version: '7', protocol: 'grpc', inputs: [] });
  });

  it("joins a label to the primary request's prediction, not to its shadow's", async () => {
    const { monitoring, registry } = await create('request_log:\n  sinks: []\n');
    const primary = request('p-1', [[0, 0]]);
    monitoring.requestDone(primary, V2, response(primary, '2', [1]), null);
    const shadow = request('p-1', [[0, 0]]);
    monitoring.requestDone(shadow, V1, response(shadow, '1', [0]), null, { shadow: true });
    expect(await monitoring.label('p-1', 1)).toBe('joined');
    expect(await monitoring.label('p-1', 1)).toBe('duplicate');
    expect(await metricValue(registry, 'switchyard_online_accuracy', { model: 'tabular', version: '2' })).toBe(1);
    expect(await metricValue(registry, 'switchyard_labels_joined_total', { model: 'tabular', version: '1' })).toBe(0);
    await monitoring.close();
  });

  it('feeds the drift windows of the version that served each request and registers every metric in the given registry', async () => {
    const { monitoring, registry } = await create('request_log:\n  sinks: []\ndrift:\n  window: 10\n  reference_requests: 10\n');
    for (let i = 0; i < 20; i++) {
      const req = request(`d${i}`, [[i % 5, (i * 7) % 3]]);
      monitoring.requestDone(req, V1, response(req, '1', [i % 3]), null);
    }
    await monitoring.drift.settled();
    monitoring.drift.compute();
    expect(monitoring.drift.state('tabular', '1')?.lastResults.map((r) => r.column)).toEqual(['x[0]', 'x[1]', 'probabilities[0]', 'probabilities[1]', 'probabilities[2]']);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of ['switchyard_request_log_records_total', 'switchyard_request_log_dropped_total', 'switchyard_online_accuracy', 'switchyard_labels_received_total', 'switchyard_drift_psi', 'switchyard_drift_ks']) {
      expect(names).toContain(name);
    }
    await monitoring.close();
  });
});
