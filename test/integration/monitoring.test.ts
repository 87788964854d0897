import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { Tracing } from '../../src/telemetry/tracing.js';
import { counter, EXAMPLE_MODELS, postJson, startTestServer, tabularRequest, tabularRows } from '../helpers/server.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the example repository whose tabular queue holds only a few requests, so that load is refused with 429. */
function smallQueueRepository(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-monitoring-repo-'));
  dirs.push(dir);
  cpSync(EXAMPLE_MODELS, dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'tabular', 'config.yaml'),
    'max_batch_size: 4\ndynamic_batching: { max_queue_delay_us: 0, max_queue_size: 3 }\ninstance_count: 1\nversion_policy: all\n',
  );
  return dir;
}

function records(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('request log through the real server', () => {
  it('writes exactly one record per request, errors and rejections included, by the time a graceful stop returns', async () => {
    const logDir = mkdtempSync(path.join(tmpdir(), 'switchyard-reqlog-'));
    dirs.push(logDir);
    const file = path.join(logDir, 'requests.jsonl');
    const t = await startTestServer({ request_log: { sinks: [{ type: 'file', path: file }] } }, smallQueueRepository());
    const bodies: { url: string; body: unknown }[] = [];
    for (let i = 0; i < 240; i++) {
      const kind = i % 6;
      if (kind === 0) bodies.push({ url: `${t.url}/v2/models/tabular/infer`, body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 15], data: new Array(15).fill(0) }] } });
      else if (kind === 1) bodies.push({ url: `${t.url}/v2/models/nope/infer`, body: tabularRequest(tabularRows(1)) });
      else bodies.push({ url: `${t.url}/v2/models/heavy/infer`, body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [4, 512], data: new Array(2048).fill(0.5) }] } });
    }
    // heavy is slow enough that its default queue (1024) holds all of these: take tabular for 429s
    for (let i = 0; i < 120; i++) bodies.push({ url: `${t.url}/v2/models/tabular/infer`, body: tabularRequest(tabularRows(4, i)) });
    const statuses = await Promise.all(bodies.map((b) => postJson(b.url, b.body).then((r) => r.status)));
    const byStatus = new Map<number, number>();
    for (const s of statuses) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
    expect(byStatus.get(200)).toBeGreaterThan(0);
    expect(byStatus.get(400)).toBe(40);
    expect(byStatus.get(404)).toBe(40);
    expect(byStatus.get(429) ?? 0, 'a queue of 3 under 120 concurrent requests refuses some').toBeGreaterThan(0);
    await t.stop();

    const recs = records(file);
    expect(recs).toHaveLength(statuses.length);
    const logged = new Map<string, number>();
    for (const r of recs) logged.set(r.status as string, (logged.get(r.status as string) ?? 0) + 1);
    expect(logged.get('success')).toBe(byStatus.get(200));
    expect(logged.get('SY_ERR_QUEUE_FULL')).toBe(byStatus.get(429));
    expect(logged.get('SY_ERR_MODEL_NOT_FOUND')).toBe(40);
    const ok = recs.find((r) => r.status === 'success' && r.model_name === 'tabular');
    expect(ok).toMatchObject({ protocol: 'rest', model_version: '2', shadow: false, inputs: [{ name: 'x', datatype: 'FP32', shape: [4, 16] }] });
    expect((ok?.latency_us as { total: number }).total).toBeGreaterThan(0);
    expect(ok?.batch_size).toBeGreaterThanOrEqual(4);
  });
});

describe('ground truth through POST /v2/feedback', () => {
  it('joins labels to logged predictions and exports online accuracy per version', async () => {
    const t = await startTestServer();
    try {
      const answers: { id: string; cls: number }[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await postJson(`${t.url}/v2/models/tabular/versions/1/infer`, tabularRequest(tabularRows(1, 40 + i)));
        expect(r.status).toBe(200);
        const probs = (r.json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'probabilities');
        expect(probs).toBeDefined();
        const data = probs?.data ?? [];
        answers.push({ id: r.json.id as string, cls: data.indexOf(Math.max(...data)) });
      }
      // three right, one wrong
      const wrong = (answers[3].cls + 1) % 3;
      const one = await postJson(`${t.url}/v2/feedback`, { id: answers[0].id, label: answers[0].cls });
      expect(one.status).toBe(200);
      expect(one.json).toEqual({ id: answers[0].id, label: 'joined', reward: null });
      const batch = await postJson(`${t.url}/v2/feedback`, [
        { id: answers[1].id, label: answers[1].cls },
        { id: answers[2].id, label: [answers[2].cls] },
        { id: answers[3].id, label: wrong },
        { id: answers[0].id, label: answers[0].cls },
        { id: 'never-served', label: 1 },
        { id: answers[1].id },
      ]);
      expect(batch.status).toBe(200);
      const results = batch.json.results as Record<string, unknown>[];
      expect(results.slice(0, 4).map((r) => r.label)).toEqual(['joined', 'joined', 'joined', 'duplicate']);
      expect(results[4].error).toMatch(/no prediction is known for request id "never-served"/);
      expect(results[5].error).toMatch(/needs "label"/);

      const unknown = await postJson(`${t.url}/v2/feedback`, { id: 'nope', label: 0 });
      expect(unknown.status).toBe(404);
      const bad = await postJson(`${t.url}/v2/feedback`, '{"id": ');
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatch(/malformed JSON/);
      const extra = await postJson(`${t.url}/v2/feedback`, { id: answers[0].id, labels: 1 });
      expect(extra.status).toBe(400);

      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/switchyard_online_accuracy\{model="tabular",version="1"\} 0\.75/);
      expect(counter(metrics, 'switchyard_labels_joined_total', 'model="tabular"')).toBe(4);
    } finally {
      await t.stop();
    }
  });
});

describe('tracing through the real server', () => {
  it('continues the caller trace: request span, queue wait child, batch span linked both ways', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const t = await startTestServer({}, undefined, { monitoring: { tracing: Tracing.withTracer(provider.getTracer('test')) } });
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parent = '00f067aa0ba902b7';
      const r = await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(2)), { traceparent: `00-${traceId}-${parent}-01` });
      expect(r.status).toBe(200);
      const spans = exporter.getFinishedSpans();
      const infer = spans.find((s) => s.name === 'infer');
      expect(infer?.spanContext().traceId).toBe(traceId);
      expect(infer?.parentSpanContext?.spanId).toBe(parent);
      expect(infer?.attributes['switchyard.request_id']).toBe(r.json.id);
      const queue = spans.find((s) => s.name === 'queue_wait');
      expect(queue?.parentSpanContext?.spanId).toBe(infer?.spanContext().spanId);
      const batch = spans.find((s) => s.name === 'batch');
      expect(batch?.links.map((l) => l.context.spanId)).toContain(infer?.spanContext().spanId);
      expect(infer?.links.map((l) => l.context.spanId)).toContain(batch?.spanContext().spanId);
    } finally {
      await t.stop();
    }
  });
});

describe('/metrics', () => {
  it('passes promtool check metrics with traffic in every family', async () => {
    const t = await startTestServer();
    try {
      await postJson(`${t.url}/v2/models/tabular/infer`, tabularRequest(tabularRows(2)));
      await postJson(`${t.url}/v2/models/tabular/infer`, { inputs: [] });
      const text = await (await fetch(`${t.url}/metrics`)).text();
      // promtool exits non-zero on a malformed exposition; lint findings are printed, not fatal
      const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
      expect(out).not.toMatch(/error/i);
    } finally {
      await t.stop();
    }
  });
});
