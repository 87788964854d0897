import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import type { Router } from '../../src/routing/index.js';
import { memoryRouter, request, type ManualClock } from './helpers.js';

const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

const SPEC = {
  policy: 'canary',
  baseline: { model: 'tabular', version: '1' },
  candidate: { model: 'tabular', version: '2' },
  steps: [10, 50, 100],
  step_interval_s: 60,
  analysis: { min_requests: 50, max_error_rate: 0.02, max_p99_latency_ratio: 1.5, min_reward_ratio: 0.9 },
};

async function canary(spec: Record<string, unknown> = {}): Promise<{ router: Router; clock: ManualClock }> {
  const { router, clock } = await memoryRouter({ rel: { ...SPEC, ...spec } }, { seed: 3 });
  routers.push(router);
  return { router, clock };
}

type Outcome = { ok: boolean; latencyUs: number };
let seq = 0;

/** Sends `n` requests through the route; `outcome` says how each target answered the i-th. */
function traffic(router: Router, n: number, outcome: (target: string, i: number) => Outcome): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const d = router.pick('rel', request(`req-${seq++}`));
    counts[d.target.key] = (counts[d.target.key] ?? 0) + 1;
    router.record(d, outcome(d.target.key, i));
  }
  return counts;
}

const healthy = (_t: string, i: number): Outcome => ({ ok: true, latencyUs: 1000 + (i % 20) * 10 });
const erroring = (t: string, i: number): Outcome => ({ ok: t !== 'tabular:2' || i % 10 !== 0, latencyUs: 1000 + (i % 20) * 10 });
const slow = (t: string, i: number): Outcome => ({ ok: true, latencyUs: (t === 'tabular:2' ? 3000 : 1000) + (i % 20) * 10 });

const state = (router: Router) => router.get('rel').canary!;

describe('canary routes', () => {
  it('progress step by step with a healthy candidate and promote it', async () => {
    const { router, clock } = await canary();
    expect(state(router)).toMatchObject({ state: 'progressing', step: 0, percent: 10 });
    const first = traffic(router, 1000, healthy);
    // about 10% to the candidate at step 0
    expect(first['tabular:2']).toBeGreaterThan(60);
    expect(first['tabular:2']).toBeLessThan(140);
    expect(router.pick('rel', request('x')).canaryStep).toBe(0);

    await clock.advance(60_000);
    expect(state(router)).toMatchObject({ state: 'progressing', step: 1, percent: 50 });
    traffic(router, 400, healthy);
    await clock.advance(60_000);
    // the next step is 100%: passing step 1 promotes
    expect(state(router)).toMatchObject({ state: 'promoted', percent: 100 });
    expect(state(router).history.map((e) => e.event)).toEqual(['start', 'advance', 'promote']);
    expect(traffic(router, 200, healthy)).toEqual({ 'tabular:2': 200 });
    expect(router.pick('rel', request('y')).canaryStep).toBeNull();
    // nothing more happens
    await clock.advance(600_000);
    expect(state(router).history).toHaveLength(3);
  });

  it('roll back automatically when the candidate errors, with the reason', async () => {
    const { router, clock } = await canary();
    traffic(router, 2000, erroring);
    await clock.advance(60_000);
    const s = state(router);
    expect(s).toMatchObject({ state: 'rolled_back', percent: 0 });
    const last = s.history[s.history.length - 1];
    expect(last.event).toBe('rollback');
    expect(last.actor).toBe('canary');
    expect(last.reason).toMatch(/candidate error rate \d+(\.\d+)?% \(\d+ of \d+\) is above max_error_rate 2%/);
    expect(last.analysis?.candidate.errors).toBeGreaterThan(0);
    // the gate that failed, with the value it measured and its limit
    expect(last.gate).toEqual({ gate: 'max_error_rate', value: last.analysis?.candidate.error_rate, limit: 0.02 });
    expect(traffic(router, 300, healthy)).toEqual({ 'tabular:1': 300 });
  });

  it('roll back automatically when the candidate is slow (p99 ratio)', async () => {
    const { router, clock } = await canary();
    traffic(router, 2000, slow);
    await clock.advance(60_000);
    const s = state(router);
    expect(s.state).toBe('rolled_back');
    expect(s.history[s.history.length - 1].reason).toMatch(/p99 latency .* is 2\.\d+x the baseline's .* \(max_p99_latency_ratio 1\.5\)/);
    expect(s.history[s.history.length - 1].gate).toMatchObject({ gate: 'max_p99_latency_ratio', limit: 1.5 });
    expect(s.history[s.history.length - 1].gate?.value).toBeGreaterThan(2);
  });

  it('roll back when the candidate earns less reward than the baseline', async () => {
    const { router, clock } = await canary();
    for (let i = 0; i < 2000; i++) {
      const id = `fb-${i}`;
      const d = router.pick('rel', request(id));
      router.record(d, healthy(d.target.key, i));
      // the baseline converts 50% of the time, the candidate 20%
      const reward = d.target.key === 'tabular:1' ? i % 2 : i % 5 === 0 ? 1 : 0;
      expect(await router.feedback(id, reward)).toBe('credited');
    }
    await clock.advance(60_000);
    const s = state(router);
    expect(s.state).toBe('rolled_back');
    expect(s.history[s.history.length - 1].reason).toMatch(/mean reward .* below 0\.9 x the baseline's/);
  });

  it('extend a step with too few requests instead of deciding, then decide', async () => {
    const { router, clock } = await canary();
    traffic(router, 100, healthy); // about 10 candidate requests: fewer than min_requests
    await clock.advance(60_000);
    let s = state(router);
    expect(s).toMatchObject({ state: 'progressing', step: 0 });
    expect(s.history.map((e) => e.event)).toEqual(['start', 'extend']);
    expect(s.history[1].reason).toMatch(/too few requests/);
    expect(s.history[1].gate).toMatchObject({ gate: 'min_requests', limit: 50 });
    expect(s.history[0].gate).toBeUndefined(); // a start is decided by no gate
    // the window keeps what it had: more traffic, and the next analysis advances
    traffic(router, 900, healthy);
    await clock.advance(60_000);
    s = state(router);
    expect(s).toMatchObject({ state: 'progressing', step: 1 });
    expect(s.history[2].analysis?.candidate.requests).toBeGreaterThan(50);
  });

  it('shows the window being filled and when the step is analysed', async () => {
    const { router, clock } = await canary();
    traffic(router, 500, healthy);
    const s = state(router);
    expect(s.window.baseline.requests + s.window.candidate.requests).toBe(500);
    expect(s.next_analysis_at).toBe(new Date(clock.now() + 60_000).toISOString());
    expect(s.window.baseline.p99_ms).toBeGreaterThan(1);
    expect(s.window.baseline.p99_ms).toBeLessThan(1.4);
  });
});

describe('manual canary actions', () => {
  it('pause stops the analysis (the split stays), resume starts the step over', async () => {
    const { router, clock } = await canary();
    await router.action('rel', 'pause', 'alice');
    traffic(router, 2000, erroring);
    await clock.advance(300_000);
    expect(state(router)).toMatchObject({ state: 'paused', step: 0, percent: 10 });
    await router.action('rel', 'resume', 'alice');
    // the erroring window from before the pause is gone: a healthy step advances
    traffic(router, 1000, healthy);
    await clock.advance(60_000);
    expect(state(router)).toMatchObject({ state: 'progressing', step: 1 });
    expect(state(router).history.map((e) => [e.event, e.actor])).toEqual([
      ['start', 'config'],
      ['pause', 'alice'],
      ['resume', 'alice'],
      ['advance', 'canary'],
    ]);
  });

  it('promote and rollback take effect at once', async () => {
    const { router } = await canary();
    await router.action('rel', 'promote', 'bob');
    expect(traffic(router, 100, healthy)).toEqual({ 'tabular:2': 100 });
    await router.action('rel', 'rollback', 'bob');
    expect(traffic(router, 100, healthy)).toEqual({ 'tabular:1': 100 });
    expect(state(router).history.at(-1)).toMatchObject({ event: 'rollback', actor: 'bob', reason: 'rolled back by bob' });
  });

  it('an action the state does not allow is a 409 and changes nothing', async () => {
    const { router } = await canary();
    const before = router.get('rel');
    await expect(router.action('rel', 'resume', 'carol')).rejects.toMatchObject({ code: 'SY_ERR_CONFLICT', httpStatus: 409 });
    await router.action('rel', 'rollback', 'carol');
    await expect(router.action('rel', 'pause', 'carol')).rejects.toThrow(/pause applies to a canary that is progressing; this one is rolled_back/);
    expect(router.get('rel').canary?.history).toHaveLength(before.canary!.history.length + 1);
  });

  it('actions apply to canary routes only; unknown actions and routes are rejected', async () => {
    const { router } = await memoryRouter({ ab: { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: 1 }] } });
    routers.push(router);
    await expect(router.action('ab', 'pause', 'x')).rejects.toMatchObject({ code: 'SY_ERR_BAD_REQUEST' });
    await expect(router.action('ab', 'explode' as 'pause', 'x')).rejects.toThrow(/unknown route action/);
    await expect(router.action('nope', 'pause', 'x')).rejects.toBeInstanceOf(GatewayError);
  });

  it('a PUT starts the canary over; a PATCH of the analysis keeps its progress', async () => {
    const { router, clock } = await canary();
    traffic(router, 1000, healthy);
    await clock.advance(60_000);
    expect(state(router).step).toBe(1);
    await router.patch('rel', { analysis: { max_error_rate: 0.05 } }, 'dave');
    expect(state(router)).toMatchObject({ step: 1, state: 'progressing' });
    await router.put('rel', SPEC, 'dave');
    expect(state(router)).toMatchObject({ step: 0, state: 'progressing' });
    expect(state(router).history.map((e) => e.event)).toEqual(['start']);
  });
});
