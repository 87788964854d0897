import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/index.js';
import { WebhookMetrics, WebhookSender, newEvent, type PostAnswer, type SenderOptions, type Transport } from '../../src/webhooks/index.js';
import { metric } from './helpers.js';

const senders: WebhookSender[] = [];
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close(Date.now())));
});

function sender(transport: Transport, o: Partial<SenderOptions> = {}): { s: WebhookSender; registry: Registry } {
  const registry = new Registry();
  const list: WebhookSender[] = [];
  const metrics = new WebhookMetrics(registry, () => list.map((x) => [x.name, x.depth] as const));
  const s = new WebhookSender({
    name: 'hook',
    url: 'http://127.0.0.1:9/hook',
    secret: 'k',
    timeoutMs: 1000,
    maxRetries: 3,
    backoff: { initialMs: 1, maxMs: 5 },
    queueSize: 4,
    metrics,
    log: silentLogger,
    transport,
    ...o,
  });
  list.push(s);
  senders.push(s);
  return { s, registry };
}

const event = (n: number) => newEvent('drift.detected', { model: 'm', version: String(n), column: 'x[0]', psi: 1, ks: 1, psi_threshold: 0.2, ks_threshold: 0.1, window: 10 }, 'test');

/** A transport that answers from a list of statuses (then 200), recording the calls. */
function scripted(statuses: (number | Error | { status: number; retryAfter: string })[]) {
  const calls: { headers: Record<string, string>; body: string; at: number }[] = [];
  const transport: Transport = async (_url, headers, body) => {
    calls.push({ headers, body, at: Date.now() });
    const next = statuses.shift() ?? 200;
    if (next instanceof Error) throw next;
    return typeof next === 'number' ? { status: next, retryAfter: undefined } : next;
  };
  return { calls, transport };
}

const until = async (check: () => boolean | Promise<boolean>) => {
  const end = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('webhook sender', () => {
  it('bounds its queue: events beyond queue_size are dropped and counted, offer never waits', async () => {
    let release: (a: PostAnswer) => void = () => undefined;
    const transport: Transport = (_u, _h, _b, _t, signal) =>
      new Promise<PostAnswer>((resolve, reject) => {
        release = resolve;
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    const { s, registry } = sender(transport);
    const accepted = Array.from({ length: 10 }, (_, i) => s.offer(event(i)));
    expect(accepted).toEqual([true, true, true, true, false, false, false, false, false, false]);
    expect(s.depth).toBe(4);
    expect(await metric(registry, 'switchyard_webhook_dropped_total', { webhook: 'hook', reason: 'queue_full' })).toBe(6);
    expect(await metric(registry, 'switchyard_webhook_queue_depth', { webhook: 'hook' })).toBe(4);
    expect(await metric(registry, 'switchyard_webhook_events_total', { webhook: 'hook', type: 'drift.detected' })).toBe(4);
    for (let i = 0; i < 4; i++) {
      await until(() => s.depth === 4 - i);
      release({ status: 200, retryAfter: undefined });
      await until(() => s.depth === 3 - i);
    }
    expect(await metric(registry, 'switchyard_webhook_deliveries_total', { webhook: 'hook', outcome: 'delivered' })).toBe(4);
    // room again
    expect(s.offer(event(99))).toBe(true);
  });

  it('retries network errors, 5xx and 429 (same event id, each attempt signed anew), in order', async () => {
    const { calls, transport } = scripted([new Error('ECONNREFUSED'), 503, { status: 429, retryAfter: '0' }]);
    const { s, registry } = sender(transport);
    s.offer(event(1));
    s.offer(event(2));
    await until(() => calls.length === 5);
    const ids = calls.map((c) => (JSON.parse(c.body) as { id: string; payload: { version: string } }).payload.version);
    expect(ids).toEqual(['1', '1', '1', '1', '2']);
    expect(new Set(calls.slice(0, 4).map((c) => c.headers['x-switchyard-event-id'])).size).toBe(1);
    for (const c of calls) {
      expect(c.headers['content-type']).toBe('application/json');
      expect(c.headers['x-switchyard-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(c.headers['x-switchyard-timestamp']).toMatch(/^\d+$/);
    }
    await until(async () => (await metric(registry, 'switchyard_webhook_deliveries_total', { webhook: 'hook', outcome: 'delivered' })) === 2);
    expect(await metric(registry, 'switchyard_webhook_retries_total', { webhook: 'hook' })).toBe(3);
  });

  it('does not retry other 4xx: the delivery is rejected', async () => {
    const { calls, transport } = scripted([400]);
    const { s, registry } = sender(transport);
    s.offer(event(1));
    await until(async () => (await metric(registry, 'switchyard_webhook_deliveries_total', { webhook: 'hook', outcome: 'rejected' })) === 1);
    expect(calls).toHaveLength(1);
    expect(await metric(registry, 'switchyard_webhook_retries_total', { webhook: 'hook' })).toBe(0);
  });

  it('gives up after max_retries', async () => {
    const { calls, transport } = scripted([500, 500, 500, 500, 500]);
    const { s, registry } = sender(transport, { maxRetries: 2 });
    s.offer(event(1));
    await until(async () => (await metric(registry, 'switchyard_webhook_deliveries_total', { webhook: 'hook', outcome: 'failed' })) === 1);
    expect(calls).toHaveLength(3);
    expect(await metric(registry, 'switchyard_webhook_retries_total', { webhook: 'hook' })).toBe(2);
  });

  it('close goes on delivering until the deadline, then drops the rest (counted) and refuses new events', async () => {
    // every attempt fails and waits 200 ms before the next: three events cannot finish in 100 ms
    const { transport } = scripted(Array.from({ length: 100 }, () => 503));
    const { s, registry } = sender(transport, { backoff: { initialMs: 200, maxMs: 200 } });
    for (let i = 0; i < 3; i++) s.offer(event(i));
    const started = Date.now();
    await s.close(Date.now() + 100);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(s.depth).toBe(0);
    expect(await metric(registry, 'switchyard_webhook_dropped_total', { webhook: 'hook', reason: 'shutdown' })).toBe(3);
    expect(s.offer(event(9))).toBe(false);
    expect(await metric(registry, 'switchyard_webhook_dropped_total', { webhook: 'hook', reason: 'shutdown' })).toBe(4);
  });

  it('close with an idle or quickly drained queue delivers everything', async () => {
    const { calls, transport } = scripted([]);
    const { s } = sender(transport);
    for (let i = 0; i < 3; i++) s.offer(event(i));
    await s.close(Date.now() + 5000);
    expect(calls).toHaveLength(3);
  });
});
