import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import { RedisRouteStore, Router, seededRandom } from '../../src/routing/index.js';
import { silentLogger } from '../../src/core/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { catalogOf, request, until } from './helpers.js';

let redis: TestRedis;
const open: Router[] = [];

beforeEach(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
  await redis.stop();
});

const AB = {
  policy: 'weighted',
  targets: [
    { model: 'tabular', version: '1', weight: 50 },
    { model: 'tabular', version: '2', weight: 50 },
  ],
};
const MAB = { policy: 'bandit', targets: [{ model: 'tabular', version: '1' }, { model: 'tabular', version: '2' }] };

/** One gateway replica's router over the shared redis-server. */
async function replica(routes: Record<string, unknown> = {}, seed = 1, unknownRetryMs?: number): Promise<Router> {
  const store = await RedisRouteStore.connect({ url: redis.url, log: silentLogger, pollMs: 200, unknownRetryMs });
  const router = await Router.create({ routes, store, catalog: catalogOf(), log: silentLogger, random: seededRandom(seed), syncIntervalMs: 50, statsIntervalMs: 60_000 });
  open.push(router);
  return router;
}

async function close(router: Router): Promise<void> {
  open.splice(open.indexOf(router), 1);
  await router.close();
}

describe('routes shared through a real redis-server', () => {
  it('a change on one replica takes effect on the other within a second', async () => {
    const a = await replica();
    const b = await replica();
    await a.put('ab', AB, 'alice');
    await until(() => b.has('ab'), 1000, 'the route on replica b');
    await b.patch('ab', { weights: { 'tabular:1': 0, 'tabular:2': 100 } }, 'bob');
    await until(() => a.pick('ab', request('')).target.key === 'tabular:2' && a.get('ab').spec.policy === 'weighted', 1000, 'the new weights on replica a');
    for (let i = 0; i < 200; i++) expect(a.pick('ab', request('')).target.key).toBe('tabular:2');
    await a.remove('ab', 'alice');
    await until(() => !b.has('ab'), 1000, 'the deletion on replica b');
    // both see one audit log
    expect((await b.audit()).map((e) => [e.actor, e.action])).toEqual([
      ['alice', 'delete'],
      ['bob', 'patch'],
      ['alice', 'create'],
    ]);
  });

  it('request counts and bandit pulls add up over replicas', async () => {
    const a = await replica({ mab: MAB });
    const b = await replica({ mab: MAB }, 2);
    for (let i = 0; i < 120; i++) a.record(a.pick('mab', request(`a${i}`)), { ok: true, latencyUs: 1 });
    for (let i = 0; i < 80; i++) b.record(b.pick('mab', request(`b${i}`)), { ok: i % 10 !== 0, latencyUs: 1 });
    const total = (r: Router) => r.get('mab').targets.reduce((s, t) => s + t.requests, 0);
    const pulls = (r: Router) => r.get('mab').bandit!.arms.reduce((s, t) => s + t.pulls, 0);
    await until(() => total(a) === 200 && total(b) === 200 && pulls(a) === 200 && pulls(b) === 200, 2000, 'summed counters');
    expect(b.get('mab').targets.reduce((s, t) => s + t.errors, 0)).toBe(8);
  });

  it('feedback sent to both replicas at once is credited exactly once', async () => {
    const a = await replica({ mab: { ...MAB, reward: 'gaussian' } });
    const b = await replica({ mab: { ...MAB, reward: 'gaussian' } }, 2);
    const ids = Array.from({ length: 200 }, (_, i) => `req-${i}`);
    for (const id of ids) a.record(a.pick('mab', request(id)), { ok: true, latencyUs: 1 });
    const outcomes = await Promise.all(ids.flatMap((id) => [a.feedback(id, 2), b.feedback(id, 2), b.feedback(id, 2)]));
    expect(outcomes.filter((o) => o === 'credited')).toHaveLength(200);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(400);
    const rewards = (r: Router) => r.get('mab').bandit!.arms.reduce((s, t) => s + t.rewards, 0);
    const sum = (r: Router) => r.get('mab').bandit!.arms.reduce((s, t) => s + t.reward_sum, 0);
    await until(() => rewards(a) === 200 && rewards(b) === 200 && sum(a) === 400 && sum(b) === 400, 2000, 'the rewards on both replicas');
    // and in Redis itself
    const admin = new Redis(redis.url);
    try {
      const hash = await admin.hgetall('switchyard:routing:counters:arms:mab');
      expect(Number(hash['tabular:1|n']) + Number(hash['tabular:2|n'])).toBe(200);
    } finally {
      admin.disconnect();
    }
    expect(await b.feedback('not-served', 1)).toBe('unknown');
  });

  it('a reward sent to another replica the moment a request is answered is credited', async () => {
    // found by `npm run test:cluster`: the serving replica's feedback record (SET req:<id>)
    // was auto-pipelined behind the round trip in flight, the answer overtook it, and a reward
    // sent at once to another replica was a 404 unknown (~1% of them)
    // (b looks an unknown id up once only: this is about the record being sent in time)
    const a = await replica({ mab: MAB }, 1, 0);
    const b = await replica({ mab: MAB }, 2, 0);
    const outcomes: Promise<string>[] = [];
    for (let i = 0; i < 100; i++) {
      // a round trip of a's in flight when the request is picked, as on a busy replica
      void a.feedback(`not-served-${i}`, 1);
      await new Promise((r) => setImmediate(r));
      const id = `fast-${i}`;
      a.record(a.pick('mab', request(id)), { ok: true, latencyUs: 1 });
      outcomes.push(b.feedback(id, 1));
    }
    // Redis orders the commands of one connection, not of two: when a's SET and b's credit reach
    // it in the same event-loop turn, b's may run first (seen 0-2 of 100 here; the production
    // store looks an unknown id up once more after 100 ms, next test). Held behind a's pipeline,
    // 22 of 100 were unknown: the bound keeps that regression failing without flaking.
    const unknown = (await Promise.all(outcomes)).filter((o) => o !== 'credited');
    expect(unknown.every((o) => o === 'unknown')).toBe(true);
    expect(unknown.length).toBeLessThanOrEqual(5);
  });

  it('an id whose record arrives shortly after its reward is still credited; a truly unknown one is unknown', async () => {
    const a = await RedisRouteStore.connect({ url: redis.url, log: silentLogger });
    const b = await RedisRouteStore.connect({ url: redis.url, log: silentLogger, unknownRetryMs: 100 });
    try {
      const late = b.credit('late-1', 1);
      await new Promise((r) => setTimeout(r, 30));
      a.remember('late-1', { route: 'mab', hash: 'arms:mab', prefix: 'tabular:1|', reward: 'b' });
      expect((await late).outcome).toBe('credited');
      const t0 = Date.now();
      expect((await b.credit('never-served', 1)).outcome).toBe('unknown');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a restarted gateway resumes routes, canary state, bandit statistics and pending feedback', async () => {
    const a = await replica();
    await a.put('mab', MAB, 'alice');
    await a.put('rel', { policy: 'canary', baseline: { model: 'tabular', version: '1' }, candidate: { model: 'tabular', version: '2' }, steps: [10, 50] }, 'alice');
    await a.action('rel', 'pause', 'alice');
    for (let i = 0; i < 50; i++) {
      a.record(a.pick('mab', request(`m${i}`)), { ok: true, latencyUs: 1 });
      if (i < 40) await a.feedback(`m${i}`, 1);
    }
    await close(a);

    const restarted = await replica();
    expect(restarted.list().map((r) => r.name)).toEqual(['mab', 'rel']);
    expect(restarted.get('rel').canary).toMatchObject({ state: 'paused', step: 0, percent: 10 });
    const arms = restarted.get('mab').bandit!.arms;
    expect(arms.reduce((s, x) => s + x.pulls, 0)).toBe(50);
    expect(arms.reduce((s, x) => s + x.rewards, 0)).toBe(40);
    // requests served before the restart can still get their feedback, once
    expect(await restarted.feedback('m45', 0)).toBe('credited');
    expect(await restarted.feedback('m1', 1)).toBe('duplicate');
  });

  it('with two replicas, one decides each canary step, over the windows of both', async () => {
    const spec = {
      policy: 'canary',
      baseline: { model: 'tabular', version: '1' },
      candidate: { model: 'tabular', version: '2' },
      steps: [50, 90],
      step_interval_s: 0.4,
      analysis: { min_requests: 60 },
    };
    const a = await replica({ rel: spec });
    const b = await replica({ rel: spec }, 2);
    // each replica alone serves ~50 per side: fewer than min_requests; together they pass
    for (let i = 0; i < 100; i++) a.record(a.pick('rel', request(`a${i}`)), { ok: true, latencyUs: 1000 });
    for (let i = 0; i < 100; i++) b.record(b.pick('rel', request(`b${i}`)), { ok: true, latencyUs: 1000 });
    await until(() => a.get('rel').canary!.step === 1 && b.get('rel').canary!.step === 1, 3000, 'the first step to pass');
    const history = a.get('rel').canary!.history;
    expect(history.map((e) => e.event)).toEqual(['start', 'advance']);
    expect(history[1].analysis!.baseline.requests + history[1].analysis!.candidate.requests).toBe(200);
    const audit = await a.audit();
    expect(audit.filter((e) => e.action === 'canary:advance')).toHaveLength(1);
  });

  it('a Redis outage fails no request: picks work from the mirror; feedback and admin changes answer 503', async () => {
    const a = await replica({ ab: AB, mab: MAB });
    await redis.stop();
    for (let i = 0; i < 100; i++) {
      const d = a.pick('mab', request(`x${i}`));
      a.record(d, { ok: true, latencyUs: 1 });
      expect(['tabular:1', 'tabular:2']).toContain(a.pick('ab', request('')).target.key);
    }
    const feedback = await a.feedback('x1', 1).catch((e: unknown) => e);
    expect(feedback).toBeInstanceOf(GatewayError);
    expect((feedback as GatewayError).httpStatus).toBe(503);
    const put = await a.put('other', AB, 'alice').catch((e: unknown) => e);
    expect((put as GatewayError).code).toBe('SY_ERR_STORE_UNAVAILABLE');
    expect(a.has('other')).toBe(false);
    // counts kept locally meanwhile
    expect(a.get('mab').targets.reduce((s, t) => s + t.requests, 0)).toBe(100);
  });

  it('a Redis restarted without its data gets back the routes the replicas hold; nothing is forgotten', async () => {
    const a = await replica();
    const b = await replica();
    await a.put('ab', AB, 'alice');
    await a.put('mab', MAB, 'alice');
    await until(() => b.has('ab') && b.has('mab'), 2000, 'the routes on replica b');
    const port = redis.port;
    await redis.stop();
    redis = await startRedis({ port });
    // both replicas notice the empty store on their next poll; neither drops a route
    const admin = new Redis(redis.url);
    try {
      // ioredis reconnects with a growing back-off (up to 2 s a try): generous on a busy machine
      await until(async () => (await admin.hlen('switchyard:routing:routes')) === 2, 15_000, 'the routes written back');
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 50));
        expect(a.has('ab') && a.has('mab') && b.has('ab') && b.has('mab')).toBe(true);
      }
      expect(a.republishedRoutes + b.republishedRoutes).toBe(2); // each route written back once
      expect((await a.audit()).map((e) => [e.actor, e.action]).sort()).toEqual([
        ['switchyard:republish', 'republish'],
        ['switchyard:republish', 'republish'],
      ]);
      // and a route deleted on purpose stays deleted
      await a.remove('ab', 'alice');
      await until(() => !b.has('ab'), 2000, 'the deletion on replica b');
      await new Promise((r) => setTimeout(r, 500));
      expect(a.has('ab') || b.has('ab')).toBe(false);
      expect(b.has('mab')).toBe(true);
    } finally {
      admin.disconnect();
    }
  }, 30_000);

  it('connect() fails with a clear message when Redis cannot be reached', async () => {
    const port = redis.port;
    await redis.stop();
    await expect(RedisRouteStore.connect({ url: `redis://127.0.0.1:${port}`, log: silentLogger, connectTimeoutMs: 500 })).rejects.toThrow(/cannot connect to the route store at redis:\/\/127\.0\.0\.1/);
  });
});
