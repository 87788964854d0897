import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import type { Router } from '../../src/routing/index.js';
import { chiSquare, memoryRouter, NO_HEADERS, request } from './helpers.js';

const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

async function weighted(weights: number[], extra: Record<string, unknown> = {}, seed = 7): Promise<Router> {
  const targets = [
    { model: 'tabular', version: '1' },
    { model: 'tabular', version: '2' },
    { model: 'heavy', version: '1' },
  ]
    .slice(0, weights.length)
    .map((t, i) => ({ ...t, weight: weights[i] }));
  const { router } = await memoryRouter({ ab: { policy: 'weighted', targets, ...extra } }, { seed });
  routers.push(router);
  return router;
}

function split(router: Router, n: number, key?: (i: number) => Record<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const d = router.pick('ab', key === undefined ? NO_HEADERS : request('', key(i)));
    counts[d.target.key] = (counts[d.target.key] ?? 0) + 1;
  }
  return counts;
}

// chi-square critical values at p = 0.01
const CRITICAL = { 1: 6.63, 2: 9.21 } as const;

describe('weighted routes', () => {
  it('split traffic by weight (chi-square within p = 0.01 at a fixed seed)', async () => {
    const router = await weighted([90, 10]);
    const c = split(router, 20_000);
    expect(chiSquare([c['tabular:1'], c['tabular:2']], [0.9, 0.1])).toBeLessThan(CRITICAL[1]);

    const three = await weighted([50, 30, 20], {}, 11);
    const t = split(three, 30_000);
    expect(chiSquare([t['tabular:1'], t['tabular:2'], t['heavy:1']], [0.5, 0.3, 0.2])).toBeLessThan(CRITICAL[2]);
  });

  it('a skewed split is detected by the same test (the check can fail)', async () => {
    const router = await weighted([80, 20]);
    const c = split(router, 20_000);
    expect(chiSquare([c['tabular:1'], c['tabular:2']], [0.9, 0.1])).toBeGreaterThan(CRITICAL[1]);
  });

  it('weights 0 and 100 send everything to one target, and patching them switches atomically (blue/green)', async () => {
    const router = await weighted([100, 0]);
    expect(split(router, 2000)).toEqual({ 'tabular:1': 2000 });
    await router.patch('ab', { weights: { 'tabular:1': 0, 'tabular:2': 100 } }, 'alice');
    expect(split(router, 2000)).toEqual({ 'tabular:2': 2000 });
  });

  it('the decision names the route, policy and target; no arm or canary step', async () => {
    const router = await weighted([1, 0]);
    const d = router.pick('ab', request('r1'));
    expect(JSON.parse(JSON.stringify(d))).toEqual({ route: 'ab', policy: 'weighted', target: { model: 'tabular', version: '1' }, shadows: [], canary_step: null, arm: null, pinned: false });
    expect(d.requestId).toBe('r1');
  });

  it('decisions of every policy, pinned or not, have one object shape', async () => {
    const { router } = await memoryRouter({
      ab: { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: 1 }], shadow: [{ model: 'heavy', version: '1', percent: 100 }] },
      rel: { policy: 'canary', baseline: { model: 'tabular', version: '1' }, candidate: { model: 'tabular', version: '2' } },
      mab: { policy: 'bandit', targets: [{ model: 'tabular', version: '1' }, { model: 'tabular', version: '2' }] },
    });
    routers.push(router);
    // pinned: to ab's shadow target, to the others' second target
    const pin: Record<string, string> = { ab: 'heavy:1', rel: 'tabular:2', mab: 'tabular:2' };
    const decisions = ['ab', 'rel', 'mab'].flatMap((name) => [router.pick(name, request('a')), router.pick(name, request('b', { 'x-switchyard-target': pin[name] }))]);
    router.record(decisions[0], { ok: true, latencyUs: 5 });
    const keys = Object.keys(decisions[1]);
    for (const d of decisions) expect(Object.keys(d)).toEqual(keys);
    expect(decisions.map((d) => [d.policy, d.canaryStep, d.arm === null])).toEqual([
      ['weighted', null, true],
      ['weighted', null, true],
      ['canary', 0, true],
      ['canary', null, true],
      ['bandit', null, false],
      ['bandit', null, true],
    ]);
  });

  it('an unknown route is a 404 GatewayError', async () => {
    const router = await weighted([1, 1]);
    expect(router.has('nope')).toBe(false);
    expect(() => router.pick('nope', NO_HEADERS)).toThrow(GatewayError);
    try {
      router.pick('nope', NO_HEADERS);
    } catch (e) {
      expect((e as GatewayError).httpStatus).toBe(404);
    }
  });
});

describe('sticky assignment', () => {
  const users = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);

  function assign(router: Router, keys: readonly string[]): Map<string, string> {
    return new Map(keys.map((k) => [k, router.pick('ab', request('', { 'x-user-id': k })).target.key]));
  }

  it('the same key always lands on the same target, and keys split by weight', async () => {
    const router = await weighted([70, 30], { sticky: { header: 'X-User-Id' } });
    const keys = users(20_000);
    const first = assign(router, keys);
    const again = assign(router, keys);
    expect(again).toEqual(first);
    const onTwo = [...first.values()].filter((t) => t === 'tabular:2').length;
    expect(chiSquare([keys.length - onTwo, onTwo], [0.7, 0.3])).toBeLessThan(CRITICAL[1]);
  });

  it('is the same on another replica (a second router with another random seed)', async () => {
    const a = await weighted([50, 50], { sticky: { header: 'x-user-id' } }, 1);
    const b = await weighted([50, 50], { sticky: { header: 'x-user-id' } }, 2);
    const keys = users(2000);
    expect(assign(a, keys)).toEqual(assign(b, keys));
  });

  it('a weight change moves only the keys it must, in one direction', async () => {
    const router = await weighted([90, 10], { sticky: { header: 'x-user-id' } });
    const keys = users(20_000);
    const before = assign(router, keys);
    await router.patch('ab', { weights: { 'tabular:1': 80, 'tabular:2': 20 } }, 'alice');
    const after = assign(router, keys);
    const moved = keys.filter((k) => before.get(k) !== after.get(k));
    // every moved key went from the target that lost weight to the one that gained it
    expect(moved.every((k) => before.get(k) === 'tabular:1' && after.get(k) === 'tabular:2')).toBe(true);
    // and about 10% of the keys moved (the minimum), not a reshuffle
    expect(moved.length / keys.length).toBeGreaterThan(0.09);
    expect(moved.length / keys.length).toBeLessThan(0.11);
  });

  it('with three targets, raising one weight moves keys only onto it', async () => {
    const router = await weighted([40, 40, 20], { sticky: { header: 'x-user-id' } });
    const keys = users(20_000);
    const before = assign(router, keys);
    await router.patch('ab', { weights: { 'heavy:1': 40 } }, 'alice');
    const after = assign(router, keys);
    const moved = keys.filter((k) => before.get(k) !== after.get(k));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((k) => after.get(k) === 'heavy:1')).toBe(true);
    // the share of heavy:1 went from 20% to 40/120 = 33%: about 13% of the keys moved
    expect(moved.length / keys.length).toBeGreaterThan(0.12);
    expect(moved.length / keys.length).toBeLessThan(0.15);
  });

  it('requests without the sticky header are assigned at random by weight', async () => {
    const router = await weighted([50, 50], { sticky: { header: 'x-user-id' } });
    const c = split(router, 4000);
    expect(chiSquare([c['tabular:1'], c['tabular:2']], [0.5, 0.5])).toBeLessThan(CRITICAL[1]);
  });

  it('headerNames lists the sticky headers (lower case) and the pinning header', async () => {
    const router = await weighted([50, 50], { sticky: { header: 'X-User-Id' } });
    expect([...router.headerNames()].sort()).toEqual(['x-switchyard-target', 'x-user-id']);
  });
});

describe('pinning (x-switchyard-target)', () => {
  it('forces the named target, with or without a version', async () => {
    const router = await weighted([100, 0]);
    const pinned = router.pick('ab', request('r', { 'x-switchyard-target': 'tabular:2' }));
    expect(pinned.target.key).toBe('tabular:2');
    expect(pinned.pinned).toBe(true);
    // a model without version: the route's version of it
    expect(router.pick('ab', request('r', { 'x-switchyard-target': 'tabular' })).target.key).toBe('tabular:1');
  });

  it('pins a shadow target of the route too', async () => {
    const router = await weighted([100, 0], { shadow: [{ model: 'heavy', version: '1', percent: 10 }] });
    const d = router.pick('ab', request('r', { 'x-switchyard-target': 'heavy:1' }));
    expect(d.target.key).toBe('heavy:1');
    expect(d.pinned).toBe(true);
  });

  it('refuses, with a 400 listing the targets, a model or version that is not a target of the route', async () => {
    const router = await weighted([100, 0]);
    for (const value of ['heavy', 'heavy:1', 'tabular:9', 'nope', ':1', 'tabular:', 'a\r\nb']) {
      let error: unknown = null;
      try {
        router.pick('ab', request('r', { 'x-switchyard-target': value }));
      } catch (e) {
        error = e;
      }
      expect(error, value).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code, value).toBe('SY_ERR_BAD_REQUEST');
      expect((error as GatewayError).message, value).toMatch(/is not a target of route "ab"; pin one of its targets \(tabular:1, tabular:2\) as <model>:<version>$/);
    }
  });

  it('is ignored on a route with allow_pinning: false (the policy decides)', async () => {
    const router = await weighted([100, 0], { allow_pinning: false });
    const d = router.pick('ab', request('r', { 'x-switchyard-target': 'tabular:2' }));
    expect(d.target.key).toBe('tabular:1');
    expect(d.pinned).toBe(false);
  });
});

describe('shadow selection', () => {
  it('mirrors to a 100% shadow on every request, except the requests its target serves', async () => {
    const router = await weighted([90, 10], { shadow: [{ model: 'tabular', version: '2', percent: 100 }] });
    for (let i = 0; i < 500; i++) {
      const d = router.pick('ab', NO_HEADERS);
      expect(d.shadows.map((t) => t.key)).toEqual(d.target.key === 'tabular:2' ? [] : ['tabular:2']);
    }
  });

  it('mirrors about `percent` of the requests', async () => {
    const router = await weighted([100, 0], { shadow: [{ model: 'heavy', version: '1', percent: 25 }] });
    let mirrored = 0;
    for (let i = 0; i < 8000; i++) if (router.pick('ab', NO_HEADERS).shadows.length > 0) mirrored++;
    expect(chiSquare([mirrored, 8000 - mirrored], [0.25, 0.75])).toBeLessThan(CRITICAL[1]);
  });

  it('pinned requests are not mirrored', async () => {
    const router = await weighted([100, 0], { shadow: [{ model: 'heavy', version: '1', percent: 100 }] });
    expect(router.pick('ab', request('r', { 'x-switchyard-target': 'tabular:1' })).shadows).toEqual([]);
  });
});
