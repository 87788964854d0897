import { afterEach, describe, expect, it } from 'vitest';
import { sampleNormal, seededRandom } from '../../src/routing/random.js';
import { MemoryRouteStore, Router } from '../../src/routing/index.js';
import { silentLogger } from '../../src/core/index.js';
import { catalogOf, memoryRouter, request, type ManualClock } from './helpers.js';

const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

const ARMS = [
  { model: 'tabular', version: '1' },
  { model: 'tabular', version: '2' },
  { model: 'heavy', version: '1' },
];

async function bandit(spec: Record<string, unknown>, opts: { feedbackTtlS?: number; seed?: number } = {}): Promise<{ router: Router; clock: ManualClock }> {
  const { router, clock } = await memoryRouter({ mab: { policy: 'bandit', targets: ARMS, ...spec } }, { seed: opts.seed ?? 5, feedbackTtlS: opts.feedbackTtlS });
  routers.push(router);
  return { router, clock };
}

/**
 * Serves `n` requests through the bandit, each answered with feedback drawn from its arm's
 * reward distribution; the arm of every request, in order.
 */
async function simulate(router: Router, n: number, reward: (arm: number) => number): Promise<number[]> {
  const arms: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `sim-${i}`;
    const d = router.pick('mab', request(id));
    router.record(d, { ok: true, latencyUs: 1000 });
    arms.push(d.arm!);
    expect(await router.feedback(id, reward(d.arm!))).toBe('credited');
  }
  return arms;
}

const shareOfBestInLastFifth = (arms: readonly number[], best: number) => {
  const tail = arms.slice(Math.floor(arms.length * 0.8));
  return tail.filter((a) => a === best).length / tail.length;
};

describe('bandit convergence on simulated arms (>= 90% of the last 20% of pulls to the best arm)', () => {
  const draws = seededRandom(99);
  const bernoulli = (rates: number[]) => (arm: number) => (draws() < rates[arm] ? 1 : 0);
  const gaussian = (means: number[], sd: number) => (arm: number) => means[arm] + sd * sampleNormal(draws);

  const cases = [
    { algorithm: 'thompson', reward: 'bernoulli', fn: bernoulli([0.3, 0.5, 0.8]), best: 2 },
    { algorithm: 'ucb1', reward: 'bernoulli', fn: bernoulli([0.3, 0.8, 0.5]), best: 1 },
    { algorithm: 'epsilon_greedy', reward: 'bernoulli', fn: bernoulli([0.8, 0.5, 0.3]), best: 0, epsilon: 0.05 },
    { algorithm: 'thompson', reward: 'gaussian', fn: gaussian([10, 12, 15], 3), best: 2 },
    { algorithm: 'ucb1', reward: 'gaussian', fn: gaussian([1.5, 1, 2.5], 1), best: 2 },
    { algorithm: 'epsilon_greedy', reward: 'gaussian', fn: gaussian([-1, 0.5, -0.2], 0.5), best: 1, epsilon: 0.05 },
  ] as const;

  for (const c of cases) {
    it(`${c.algorithm} with ${c.reward} rewards`, async () => {
      const { router } = await bandit({ algorithm: c.algorithm, reward: c.reward, ...('epsilon' in c ? { epsilon: c.epsilon } : {}) });
      const arms = await simulate(router, 4000, c.fn);
      expect(shareOfBestInLastFifth(arms, c.best)).toBeGreaterThanOrEqual(0.9);
      // the statistics the admin API shows add up
      const stats = router.get('mab').bandit!.arms;
      expect(stats.reduce((s, a) => s + a.pulls, 0)).toBe(4000);
      expect(stats.reduce((s, a) => s + a.rewards, 0)).toBe(4000);
      expect(stats[c.best].pulls).toBe(Math.max(...stats.map((a) => a.pulls)));
    });
  }

  it('every arm is tried before any feedback has arrived (pending feedback spreads traffic)', async () => {
    for (const algorithm of ['thompson', 'ucb1', 'epsilon_greedy']) {
      const { router } = await bandit({ algorithm });
      const seen = new Set<number>();
      for (let i = 0; i < 30; i++) seen.add(router.pick('mab', request(`p-${algorithm}-${i}`)).arm!);
      expect(seen.size, algorithm).toBe(3);
    }
  });
});

describe('feedback', () => {
  it('credits the arm that served the request, once; duplicates and unknown ids are told apart', async () => {
    const { router } = await bandit({});
    const d = router.pick('mab', request('req-1'));
    router.record(d, { ok: true, latencyUs: 500 });
    expect(await router.feedback('req-1', 1)).toBe('credited');
    expect(await router.feedback('req-1', 1)).toBe('duplicate');
    expect(await router.feedback('req-1', 0)).toBe('duplicate');
    expect(await router.feedback('never-served', 1)).toBe('unknown');
    const arm = router.get('mab').bandit!.arms[d.arm!];
    expect(arm).toMatchObject({ pulls: 1, rewards: 1, reward_sum: 1, reward_mean: 1 });
  });

  it('expired requests are unknown', async () => {
    const { router, clock } = await bandit({}, { feedbackTtlS: 30 });
    router.record(router.pick('mab', request('old')), { ok: true, latencyUs: 1 });
    router.record(router.pick('mab', request('young')), { ok: true, latencyUs: 1 });
    await clock.advance(29_000);
    expect(await router.feedback('young', 0)).toBe('credited');
    await clock.advance(2000);
    expect(await router.feedback('old', 1)).toBe('unknown');
  });

  it('memory holds a bounded number of requests awaiting feedback: the oldest are forgotten first', async () => {
    const store = new MemoryRouteStore({ maxRecords: 100 });
    const router = await Router.create({ routes: { mab: { policy: 'bandit', targets: ARMS } }, store, catalog: catalogOf(), log: silentLogger });
    routers.push(router);
    for (let i = 0; i < 150; i++) router.record(router.pick('mab', request(`q${i}`)), { ok: true, latencyUs: 1 });
    expect(await router.feedback('q0', 1)).toBe('unknown');
    expect(await router.feedback('q49', 1)).toBe('unknown');
    expect(await router.feedback('q50', 1)).toBe('credited');
    expect(await router.feedback('q149', 1)).toBe('credited');
  });

  it('a bernoulli route takes 0 or 1 only; the rejected reward leaves the request creditable', async () => {
    const { router } = await bandit({ reward: 'bernoulli' });
    router.record(router.pick('mab', request('r')), { ok: true, latencyUs: 1 });
    await expect(router.feedback('r', 0.5)).rejects.toMatchObject({ code: 'SY_ERR_BAD_REQUEST', message: expect.stringMatching(/bernoulli rewards: 0 or 1, got 0\.5/) });
    expect(await router.feedback('r', 1)).toBe('credited');
  });

  it('a gaussian route takes any finite number; non-numbers and non-finite rewards are rejected', async () => {
    const { router } = await bandit({ reward: 'gaussian' });
    router.record(router.pick('mab', request('g')), { ok: true, latencyUs: 1 });
    for (const bad of [Number.NaN, Infinity, '1', null, undefined, [1]]) {
      await expect(router.feedback('g', bad), String(bad)).rejects.toMatchObject({ code: 'SY_ERR_BAD_REQUEST' });
    }
    expect(await router.feedback('g', -12.5)).toBe('credited');
    const arms = router.get('mab').bandit!.arms;
    expect(arms.find((a) => a.rewards === 1)?.reward_mean).toBe(-12.5);
  });

  it('rejects ids that cannot be request ids', async () => {
    const { router } = await bandit({});
    for (const id of ['', 'x'.repeat(257), 42, null]) await expect(router.feedback(id, 1)).rejects.toMatchObject({ code: 'SY_ERR_BAD_REQUEST' });
  });

  it('failed requests, pinned requests and weighted routes take no feedback', async () => {
    const { router } = await memoryRouter({
      mab: { policy: 'bandit', targets: ARMS },
      ab: { policy: 'weighted', targets: [{ model: 'tabular', version: '1', weight: 1 }] },
    });
    routers.push(router);
    router.record(router.pick('mab', request('failed')), { ok: false, latencyUs: 1 });
    router.record(router.pick('mab', request('pinned', { 'x-switchyard-target': 'tabular:1' })), { ok: true, latencyUs: 1 });
    router.record(router.pick('ab', request('weighted')), { ok: true, latencyUs: 1 });
    for (const id of ['failed', 'pinned', 'weighted']) expect(await router.feedback(id, 1), id).toBe('unknown');
    // the pinned request is not a pull of the bandit
    expect(router.get('mab').bandit!.arms.reduce((s, a) => s + a.pulls, 0)).toBe(1);
  });
});
