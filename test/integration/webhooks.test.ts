/**
 * Webhooks against a real HTTP receiver (node:http on an ephemeral port): deliveries that
 * fail the first attempts are retried with the same event id, every attempt is signed, a
 * canary rolled back by its error gate and a drift episode each arrive as one event, and
 * the real gateway sends canary events from its admin API and analysis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Tensor, silentLogger, type ModelSignature } from '../../src/core/index.js';
import { DriftMonitor } from '../../src/telemetry/drift/index.js';
import { verifySignature, type CanaryPayload, type DriftPayload, type Webhooks } from '../../src/webhooks/index.js';
import { memoryRouter, request } from '../routing/helpers.js';
import { getJson, postJson, startTestServer, tabularRequest, tabularRows, type TestServer } from '../helpers/server.js';
import { Receiver, configWith, metric, webhooks, type Answer } from '../webhooks/helpers.js';

const SECRET = 'whsec_integration';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function receiver(answer?: Answer): Promise<Receiver> {
  const r = await Receiver.start(answer);
  cleanups.push(() => r.close());
  return r;
}

function hooksFor(r: Receiver, hook: Record<string, unknown> = {}): { hooks: Webhooks; registry: Registry } {
  const made = webhooks(configWith([{ url: r.url, secret: SECRET, retry_initial_ms: 20, retry_max_ms: 100, ...hook }]));
  cleanups.push(() => made.hooks.close());
  return made;
}

const CANARY = {
  policy: 'canary',
  baseline: { model: 'tabular', version: '1' },
  candidate: { model: 'tabular', version: '2' },
  steps: [10, 50, 100],
  step_interval_s: 60,
  analysis: { min_requests: 50, max_error_rate: 0.02, max_p99_latency_ratio: 1.5, min_reward_ratio: 0.9 },
};

describe('webhook delivery to a real receiver', () => {
  it('a canary rolled back by its error gate: one event with the gate and its values, retried past two failures, every attempt signed', async () => {
    // the first attempt gets 503, the second 429 with Retry-After: 0, the third 200
    const r = await receiver((n: number) => (n === 0 ? { status: 503 } : n === 1 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 200 }));
    const { registry } = hooksFor(r);
    const { router, clock } = await memoryRouter({ rel: CANARY }, { seed: 3 });
    cleanups.push(() => router.close());
    for (let i = 0; i < 2000; i++) {
      const d = router.pick('rel', request(`req-${i}`));
      router.record(d, { ok: d.target.key !== 'tabular:2' || i % 10 !== 0, latencyUs: 1000 + (i % 20) * 10 });
    }
    await clock.advance(60_000);
    expect(router.get('rel').canary?.state).toBe('rolled_back');
    await r.until((x) => x.delivered().length === 1);

    expect(r.requests.map((q) => q.status)).toEqual([503, 429, 200]);
    const ids = new Set(r.requests.map((q) => (JSON.parse(q.body) as { id: string }).id));
    expect(ids.size).toBe(1);
    for (const q of r.requests) {
      expect(q.headers['content-type']).toBe('application/json');
      expect(q.headers['x-switchyard-event']).toBe('canary.rolled_back');
      expect(verifySignature(SECRET, q.headers['x-switchyard-timestamp'] as string, q.headers['x-switchyard-signature'] as string, q.body)).toBe(true);
      expect(verifySignature('wrong', q.headers['x-switchyard-timestamp'] as string, q.headers['x-switchyard-signature'] as string, q.body)).toBe(false);
    }
    const event = r.delivered()[0];
    expect(event).toMatchObject({ type: 'canary.rolled_back', server: 'switchyard' });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(event.time)).toBe(clock.now());
    const p = event.payload as CanaryPayload;
    expect(p).toMatchObject({
      route: 'rel',
      transition: 'rollback',
      status: 'rolled_back',
      percent: 0,
      actor: 'canary',
      baseline: { model: 'tabular', version: '1' },
      candidate: { model: 'tabular', version: '2' },
    });
    expect(p.reason).toMatch(/candidate error rate .* is above max_error_rate 2%/);
    expect(p.gate?.gate).toBe('max_error_rate');
    expect(p.gate?.limit).toBe(0.02);
    expect(p.gate?.value).toBeCloseTo(p.analysis!.candidate.error_rate, 4);
    expect(p.gate!.value!).toBeGreaterThan(0.02);
    expect(p.analysis!.candidate.errors).toBeGreaterThan(0);
    // the history the admin API shows carries the same gate
    const history = router.get('rel').canary!.history;
    expect(history[history.length - 1].gate).toEqual(p.gate);

    const name = new URL(r.url).host;
    expect(await metric(registry, 'switchyard_webhook_deliveries_total', { webhook: name, outcome: 'delivered' })).toBe(1);
    expect(await metric(registry, 'switchyard_webhook_retries_total', { webhook: name })).toBe(2);
    expect(await metric(registry, 'switchyard_webhook_delivery_seconds_count', { webhook: name, outcome: 'delivered' })).toBe(1);
  });

  it('a drift episode: one drift.detected per model, version and column, not repeated while it lasts', async () => {
    const r = await receiver();
    hooksFor(r, { events: ['drift.detected'] });
    const root = mkdtempSync(path.join(tmpdir(), 'switchyard-webhook-drift-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const signature: ModelSignature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };
    const model = { name: 'tabular', version: '1', signature };
    const drift = new DriftMonitor({
      config: { enabled: true, window: 200, reference_requests: 20, interval_s: 30, psi_threshold: 0.2, ks_threshold: 0.1, max_columns: 32, sample_rate: 1 },
      root,
      log: silentLogger,
      registry: new Registry(),
      timer: false,
    });
    cleanups.push(() => drift.close());
    let seed = 1;
    const uniform = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const serve = async (n: number, shift: number) => {
      for (let i = 0; i < n; i++) {
        const x = new Float32Array(20);
        for (let k = 0; k < 20; k++) x[k] = k % 2 === 0 ? uniform() + shift : uniform();
        drift.observe(model, [new Tensor('x', 'FP32', [10, 2], x)], [new Tensor('y', 'FP32', [10], new Float32Array(10).fill(0.5))]);
        if (i === 0) await drift.settled();
      }
    };
    await serve(20, 0); // reference from traffic
    await serve(20, 0);
    drift.compute();
    await serve(20, 3); // column x[0] shifts
    drift.compute();
    drift.compute(); // still drifting: no second event
    await r.until((x) => x.delivered().length >= 1);
    await new Promise((res) => setTimeout(res, 100));
    const events = r.delivered();
    expect(events.map((e) => [e.type, (e.payload as DriftPayload).column])).toEqual([['drift.detected', 'x[0]']]);
    expect(events[0].payload).toMatchObject({ model: 'tabular', version: '1', column: 'x[0]', psi_threshold: 0.2, ks_threshold: 0.1, window: 200 });
    expect((events[0].payload as DriftPayload).ks).toBeGreaterThan(0.1);
    expect(verifySignature(SECRET, r.requests[0].headers['x-switchyard-timestamp'] as string, r.requests[0].headers['x-switchyard-signature'] as string, r.requests[0].body)).toBe(true);
  });

  it('a 4xx other than 429 is not retried; a webhook gets only the events it asked for', async () => {
    const r = await receiver(() => ({ status: 410 }));
    const { registry } = hooksFor(r, { events: ['canary.rolled_back'] });
    const { router, clock } = await memoryRouter({ rel: { ...CANARY, steps: [50, 100], analysis: { ...CANARY.analysis, min_requests: 5 } } }, { seed: 3 });
    cleanups.push(() => router.close());
    for (let i = 0; i < 200; i++) router.record(router.pick('rel', request(`ok-${i}`)), { ok: true, latencyUs: 1000 });
    await clock.advance(60_000); // promoted: not asked for
    expect(router.get('rel').canary?.state).toBe('promoted');
    await router.action('rel', 'rollback', 'release-bot');
    await r.until((x) => x.requests.length === 1);
    await new Promise((res) => setTimeout(res, 100));
    expect(r.requests).toHaveLength(1);
    expect(JSON.parse(r.requests[0].body)).toMatchObject({ type: 'canary.rolled_back', payload: { actor: 'release-bot', gate: null, analysis: null } });
    expect(await metric(registry, 'switchyard_webhook_deliveries_total', { webhook: new URL(r.url).host, outcome: 'rejected' })).toBe(1);
    expect(await metric(registry, 'switchyard_webhook_retries_total', { webhook: new URL(r.url).host })).toBe(0);
  });
});

describe('webhooks in the gateway', () => {
  let t: TestServer | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  it('a canary promoted by its analysis and rolled back through the admin API reach the receiver; /metrics counts the deliveries', async () => {
    const r = await receiver();
    t = await startTestServer({
      admin_token: 'tok',
      webhooks: [{ url: r.url, name: 'orchestrator', secret: SECRET }],
      // latency on a shared test machine is noise: only the error gate may judge this candidate
      routes: { rel: { ...CANARY, steps: [50, 100], step_interval_s: 1, analysis: { ...CANARY.analysis, min_requests: 3, max_p99_latency_ratio: 1000 } } },
    });
    const rows = tabularRows(1);
    for (let i = 0; i < 40; i++) expect((await postJson(`${t.url}/v2/models/rel/infer`, tabularRequest(rows))).status).toBe(200);
    await r.until((x) => x.delivered().some((e) => e.type === 'canary.promoted'), 10_000).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(r.requests.map((q) => q.body))}`);
    });
    const rollback = await postJson(`${t.url}/admin/routes/rel/rollback`, {}, { authorization: 'Bearer tok', 'x-switchyard-actor': 'release-bot' });
    expect(rollback.status).toBe(200);
    await r.until((x) => x.delivered().some((e) => e.type === 'canary.rolled_back'));
    const [promoted, rolledBack] = r.delivered();
    expect(promoted.payload).toMatchObject({ route: 'rel', transition: 'promote', actor: 'canary', percent: 100, gate: null });
    expect((promoted.payload as CanaryPayload).analysis?.candidate.requests).toBeGreaterThanOrEqual(3);
    expect(rolledBack.payload).toMatchObject({ route: 'rel', transition: 'rollback', actor: 'release-bot', status: 'rolled_back', percent: 0 });
    for (const q of r.requests) expect(verifySignature(SECRET, q.headers['x-switchyard-timestamp'] as string, q.headers['x-switchyard-signature'] as string, q.body)).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_webhook_deliveries_total\{webhook="orchestrator",outcome="delivered"\} 2/);
    expect(metrics).toMatch(/switchyard_webhook_queue_depth\{webhook="orchestrator"\} 0/);
    expect((await getJson(`${t.url}/v2/health/ready`)).status).toBe(200);
  });

  it('labels sent to /v2/feedback that score a version below the accuracy threshold: one accuracy.below_threshold', async () => {
    const r = await receiver();
    t = await startTestServer({
      webhooks: [{ url: r.url, secret: SECRET, events: ['accuracy.below_threshold'] }],
      webhook_settings: { online_accuracy_below: 0.6, accuracy_min_labels: 5, accuracy_window: 10 },
    });
    const url = t.url;
    const label = async (i: number, right: boolean) => {
      const res = await postJson(`${url}/v2/models/tabular/versions/1/infer`, tabularRequest(tabularRows(1, 70 + i)));
      const data = (res.json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'probabilities')?.data ?? [];
      const cls = data.indexOf(Math.max(...data));
      expect((await postJson(`${url}/v2/feedback`, { id: res.json.id, label: right ? cls : (cls + 1) % 3 })).json.label).toBe('joined');
    };
    for (let i = 0; i < 5; i++) await label(i, true);
    for (let i = 5; i < 12; i++) await label(i, false); // the window of 10: 3 right, 7 wrong
    await r.until((x) => x.delivered().length === 1);
    await new Promise((res) => setTimeout(res, 100));
    const events = r.delivered();
    expect(events).toHaveLength(1);
    // 5 right of 8 rows is 0.625, still above; the 9th label makes 5 of 9 = 0.5556, below: the episode starts there
    expect(events[0]).toMatchObject({ type: 'accuracy.below_threshold', payload: { model: 'tabular', version: '1', threshold: 0.6, rows: 9, correct: 5, accuracy: 0.5556 } });
  });

  it('shutdown delivers what is queued, bounded by webhook_settings.close_timeout_s', async () => {
    // a receiver that never answers in time: the event cannot be delivered
    const r = await receiver(() => ({ status: 503 }));
    t = await startTestServer({
      admin_token: 'tok',
      webhooks: [{ url: r.url, name: 'slow', retry_initial_ms: 10_000, retry_max_ms: 10_000 }],
      webhook_settings: { close_timeout_s: 0.3 },
      routes: { rel: CANARY },
    });
    expect((await postJson(`${t.url}/admin/routes/rel/rollback`, {}, { authorization: 'Bearer tok' })).status).toBe(200);
    await r.until((x) => x.requests.length === 1);
    const started = Date.now();
    await t.stop();
    t = null;
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
