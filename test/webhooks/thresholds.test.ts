import { channel } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTE_SHADOW_CHANNEL, type ShadowEvent } from '../../src/routing/index.js';
import { EVALUATION_LABEL_CHANNEL, type LabelScoredEvent } from '../../src/telemetry/index.js';
import { Episodes, FlagWindow, RowWindow, type Transport, type WebhookEvent, type Webhooks } from '../../src/webhooks/index.js';
import { configWith, webhooks } from './helpers.js';

const open: Webhooks[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** A transport that records the events it is given and answers 200. */
function recorder(): { events: WebhookEvent[]; urls: string[]; transport: Transport } {
  const events: WebhookEvent[] = [];
  const urls: string[] = [];
  return {
    events,
    urls,
    transport: async (url, _h, body) => {
      urls.push(url);
      events.push(JSON.parse(body) as WebhookEvent);
      return { status: 200, retryAfter: undefined };
    },
  };
}

const labels = channel(EVALUATION_LABEL_CHANNEL);
const shadows = channel(ROUTE_SHADOW_CHANNEL);
const label = (version: string, rows: number, correct: number): void => {
  const e: LabelScoredEvent = { model: 'tabular', version, task: 'classification', rows, correct, absError: 0, sqError: 0 };
  labels.publish(e);
};
const shadow = (agree: boolean | null, mismatch = false): void => {
  const e: ShadowEvent = { route: 'rel', target: 'tabular:2', outcome: 'compared', agree, maxAbsDiff: 0.1, mismatch };
  shadows.publish(e);
};
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('windows and episodes', () => {
  it('a row window keeps the most recent labels covering at least its size', () => {
    const w = new RowWindow(10);
    for (let i = 0; i < 10; i++) w.add(1, 1);
    expect([w.rows, w.correct, w.accuracy]).toEqual([10, 10, 1]);
    w.add(4, 0); // the 4 oldest rows go
    expect([w.rows, w.correct]).toEqual([10, 6]);
    w.add(20, 5); // one label larger than the window: it alone is kept
    expect([w.rows, w.correct]).toEqual([20, 5]);
  });

  it('a flag window counts the last N flags', () => {
    const w = new FlagWindow(4);
    expect(w.fraction).toBeNull();
    [true, true, false, false, false, false].forEach((f) => w.add(f));
    expect([w.count, w.flagged, w.fraction]).toEqual([4, 0, 0]);
    w.add(true);
    expect(w.flagged).toBe(1);
  });

  it('an episode starts once when the value crosses and is re-armed when it crosses back', () => {
    const e = new Episodes(0.8, 'below');
    expect([0.9, null, 0.7, 0.6, 0.75, 0.85, 0.5].map((v) => e.update('k', v))).toEqual([false, false, true, false, false, false, true]);
    expect(e.update('other', 0.1)).toBe(true);
    const a = new Episodes(0.1, 'above');
    expect([0.05, 0.2, 0.3, 0.1, 0.11].map((v) => a.update('k', v))).toEqual([false, true, false, false, true]);
  });
});

describe('threshold events', () => {
  it('accuracy.below_threshold: once per episode per model version, judged after accuracy_min_labels rows, with a per-webhook threshold', async () => {
    const a = recorder();
    const config = configWith(
      [
        { url: 'http://a.example/hook', events: ['accuracy.below_threshold'] },
        { url: 'http://b.example/hook', online_accuracy_below: 0.5 },
      ],
      { online_accuracy_below: 0.9, accuracy_min_labels: 20, accuracy_window: 50 },
    );
    const { hooks } = webhooks(config, { transport: a.transport });
    open.push(hooks);
    for (let i = 0; i < 19; i++) label('1', 1, 0); // all wrong, but too few rows to judge
    await settle();
    expect(a.events).toEqual([]);
    label('1', 1, 0); // 20 rows: accuracy 0 — below both thresholds
    await settle();
    expect(a.events.map((e) => e.type)).toEqual(['accuracy.below_threshold', 'accuracy.below_threshold']);
    expect(a.urls.sort()).toEqual(['http://a.example/hook', 'http://b.example/hook']);
    expect(a.events.find((e) => (e.payload as { threshold: number }).threshold === 0.9)?.payload).toEqual({
      model: 'tabular',
      version: '1',
      accuracy: 0,
      threshold: 0.9,
      rows: 20,
      correct: 0,
    });
    for (let i = 0; i < 20; i++) label('1', 1, 0); // still below: no more events
    await settle();
    expect(a.events).toHaveLength(2);
    // recovers to 0.7 (above 0.5, below 0.9): only b's episode ends … and a's goes on
    for (let i = 0; i < 35; i++) label('1', 1, 1);
    await settle();
    expect(a.events).toHaveLength(2);
    // falls again: b's new episode
    for (let i = 0; i < 45; i++) label('1', 1, 0);
    await settle();
    expect(a.events.map((e) => (e.payload as { threshold: number }).threshold)).toEqual([0.9, 0.5, 0.5]);
    // another version has its own window
    for (let i = 0; i < 20; i++) label('2', 1, 1);
    await settle();
    expect(a.events).toHaveLength(3);
  });

  it('shadow.disagreement_above_threshold: from compared copies with classes, per route and shadow target', async () => {
    const a = recorder();
    const config = configWith([{ url: 'http://a.example/hook', shadow_disagreement_above: 0.2 }], { shadow_min_compared: 10, shadow_window: 10 });
    const { hooks } = webhooks(config, { transport: a.transport });
    open.push(hooks);
    for (let i = 0; i < 10; i++) shadow(i % 10 !== 0); // 10% disagree
    for (let i = 0; i < 20; i++) shadow(null); // regression outputs: not judged
    await settle();
    expect(a.events).toEqual([]);
    shadow(false);
    shadow(false, false);
    shadow(null, true); // outputs that differ in shape count as disagreeing
    await settle();
    expect(a.events.map((e) => e.type)).toEqual(['shadow.disagreement_above_threshold']);
    expect(a.events[0].payload).toEqual({ route: 'rel', target: 'tabular:2', disagreement: 0.3, threshold: 0.2, compared: 10, disagreed: 3 });
  });

  it('no threshold: no accuracy or shadow events (and no subscription)', async () => {
    const a = recorder();
    const { hooks } = webhooks(configWith([{ url: 'http://a.example/hook' }], { accuracy_min_labels: 1 }), { transport: a.transport });
    open.push(hooks);
    for (let i = 0; i < 10; i++) label('1', 1, 0);
    for (let i = 0; i < 200; i++) shadow(false);
    await settle();
    expect(a.events).toEqual([]);
  });
});

describe('webhook secrets', () => {
  it('secret_env names a variable read at startup: unset is an error naming the key', () => {
    const config = configWith([{ url: 'http://a.example/x', secret_env: 'HOOK_SECRET' }]);
    expect(() => webhooks(config, { env: {} })).toThrow(/webhooks\[0\]\.secret_env: got "HOOK_SECRET", expected the name of a set, non-empty environment variable/);
    const { hooks } = webhooks(config, { env: { HOOK_SECRET: 'x' } });
    open.push(hooks);
    expect(hooks.names).toEqual(['a.example']);
  });
});
