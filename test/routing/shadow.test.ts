import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Tensor } from '../../src/core/index.js';
import { toHalf } from '../../src/core/datatypes.js';
import { compareOutputs, type Router } from '../../src/routing/index.js';
import { RouteMetrics } from '../../src/telemetry/route-metrics.js';
import { metricValue } from '../telemetry/helpers.js';
import { memoryRouter, NO_HEADERS, request } from './helpers.js';

const probs = (rows: number[][], name = 'probabilities') => new Tensor(name, 'FP32', [rows.length, rows[0].length], Float32Array.from(rows.flat()));

describe('compareOutputs', () => {
  it('classifier-like outputs: argmax agreement per row, and the largest difference', () => {
    const a = probs([
      [0.1, 0.7, 0.2],
      [0.6, 0.3, 0.1],
    ]);
    const same = compareOutputs([a], [probs([[0.2, 0.6, 0.2], [0.5, 0.4, 0.1]])]);
    expect(same.agree).toBe(true);
    expect(same.rows).toBe(2);
    expect(same.maxAbsDiff).toBeCloseTo(0.1, 6);
    const differ = compareOutputs([a], [probs([[0.1, 0.7, 0.2], [0.3, 0.6, 0.1]])]);
    expect(differ.agree).toBe(false);
    expect(differ.agreeingRows).toBe(1);
  });

  it('numeric outputs of other shapes: max absolute difference only', () => {
    const p = new Tensor('y', 'FP64', [3], Float64Array.from([1, 2, 3]));
    const s = new Tensor('y', 'FP64', [3], Float64Array.from([1, 2.5, 2]));
    const c = compareOutputs([p], [s]);
    expect(c.agree).toBeNull();
    expect(c.maxAbsDiff).toBe(1);
    // one column is not a classification
    expect(compareOutputs([probs([[0.3], [0.9]])], [probs([[0.4], [0.9]])]).agree).toBeNull();
    // integers (and 64-bit ones) compare as numbers
    const i = compareOutputs([new Tensor('k', 'INT64', [2], BigInt64Array.from([1n, 5n]))], [new Tensor('k', 'INT64', [2], BigInt64Array.from([1n, 2n]))]);
    expect(i.maxAbsDiff).toBe(3);
  });

  it('FP16 values are decoded before comparing; NaN agrees only with NaN', () => {
    const half = (xs: number[]) => new Tensor('h', 'FP16', [1, xs.length], Uint16Array.from(xs.map(toHalf)));
    const c = compareOutputs([half([0.25, 0.75])], [half([0.5, 0.5])]);
    expect(c.maxAbsDiff).toBe(0.25);
    expect(c.agree).toBe(false);
    const nan = (x: number) => new Tensor('n', 'FP32', [1], Float32Array.from([x]));
    expect(compareOutputs([nan(Number.NaN)], [nan(Number.NaN)]).maxAbsDiff).toBe(0);
    expect(compareOutputs([nan(Number.NaN)], [nan(1)]).maxAbsDiff).toBe(Infinity);
  });

  it('missing outputs or other shapes are a mismatch', () => {
    const a = probs([[0.1, 0.9]]);
    expect(compareOutputs([a], []).mismatch).toMatch(/no output "probabilities"/);
    expect(compareOutputs([a], [probs([[0.1, 0.8, 0.1]])]).mismatch).toMatch(/differs in datatype or shape/);
    expect(compareOutputs([a], [a, probs([[1, 0]], 'extra')]).mismatch).toMatch(/extra output "extra"/);
    expect(compareOutputs([a], []).agree).toBe(false);
  });
});

describe('route metrics', () => {
  const routers: Router[] = [];
  const metrics: RouteMetrics[] = [];
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
    for (const m of metrics.splice(0)) m.close();
  });

  it('count routed requests per target, shadows by outcome and agreement, feedback, arms and canary state', async () => {
    const registry = new Registry();
    metrics.push(new RouteMetrics(registry));
    const { router } = await memoryRouter({
      ab: { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: 1 }], shadow: [{ model: 'tabular', version: '2', percent: 100 }] },
      mab: { policy: 'bandit', targets: [{ model: 'tabular', version: '1' }, { model: 'tabular', version: '2' }] },
      rel: { policy: 'canary', baseline: { model: 'tabular', version: '1' }, candidate: { model: 'tabular', version: '2' }, steps: [20, 60] },
    });
    routers.push(router);

    for (let i = 0; i < 10; i++) {
      const d = router.pick('ab', NO_HEADERS);
      router.record(d, { ok: i !== 0, latencyUs: 100 });
      const shadow = d.shadows[0];
      if (i < 6) router.recordShadow(d, shadow, { kind: 'compared', primary: [probs([[0.2, 0.8]])], shadow: [probs([[i < 4 ? 0.3 : 0.9, 0.7]])] });
      else if (i < 8) router.recordShadow(d, shadow, { kind: 'dropped' });
      else router.recordShadow(d, shadow, { kind: 'failed' });
    }
    const labels = { route: 'ab', target: 'tabular:2' };
    expect(await metricValue(registry, 'switchyard_route_requests_total', { route: 'ab', target: 'tabular:1', status: 'ok' })).toBe(9);
    expect(await metricValue(registry, 'switchyard_route_requests_total', { route: 'ab', target: 'tabular:1', status: 'error' })).toBe(1);
    expect(await metricValue(registry, 'switchyard_route_shadow_requests_total', { ...labels, outcome: 'compared' })).toBe(6);
    expect(await metricValue(registry, 'switchyard_route_shadow_requests_total', { ...labels, outcome: 'dropped' })).toBe(2);
    expect(await metricValue(registry, 'switchyard_route_shadow_requests_total', { ...labels, outcome: 'failed' })).toBe(2);
    expect(await metricValue(registry, 'switchyard_route_shadow_argmax_total', { ...labels, result: 'agree' })).toBe(4);
    expect(await metricValue(registry, 'switchyard_route_shadow_argmax_total', { ...labels, result: 'disagree' })).toBe(2);
    const text = await registry.metrics();
    expect(text).toMatch(/switchyard_route_shadow_max_abs_diff_count\{route="ab",target="tabular:2"\} 6/);

    router.record(router.pick('mab', request('m1')), { ok: true, latencyUs: 1 });
    await router.feedback('m1', 1);
    await router.feedback('m1', 1);
    await router.feedback('nobody', 1);
    expect(await metricValue(registry, 'switchyard_route_feedback_total', { route: 'mab', outcome: 'credited' })).toBe(1);
    expect(await metricValue(registry, 'switchyard_route_feedback_total', { route: 'mab', outcome: 'duplicate' })).toBe(1);
    expect(await metricValue(registry, 'switchyard_route_feedback_total', { route: '', outcome: 'unknown' })).toBe(1);
    // request ids never become labels
    expect(await registry.metrics()).not.toMatch(/m1|nobody/);

    await router.action('rel', 'pause', 'ops');
    router.publishStats();
    expect(await metricValue(registry, 'switchyard_route_arm_pulls', { route: 'mab' })).toBe(1);
    expect(await metricValue(registry, 'switchyard_route_arm_rewards', { route: 'mab' })).toBe(1);
    expect(await metricValue(registry, 'switchyard_route_canary_candidate_percent', { route: 'rel' })).toBe(20);
    expect(await metricValue(registry, 'switchyard_route_canary_state', { route: 'rel', state: 'paused' })).toBe(1);
    expect(await metricValue(registry, 'switchyard_route_canary_state', { route: 'rel', state: 'progressing' })).toBe(0);
    expect(await metricValue(registry, 'switchyard_route_canary_transitions_total', { route: 'rel', event: 'pause' })).toBe(1);

    // a deleted route's gauges go away at the next snapshot
    await router.remove('mab', 'ops');
    router.publishStats();
    expect(await registry.metrics()).not.toMatch(/switchyard_route_arm_pulls\{route="mab"/);
  });
});
