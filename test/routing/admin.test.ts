import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import { MemoryRouteStore, Router, seededRandom } from '../../src/routing/index.js';
import { silentLogger } from '../../src/core/index.js';
import { catalogOf, ManualClock, memoryRouter } from './helpers.js';

const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

const AB = {
  policy: 'weighted',
  targets: [
    { model: 'tabular', version: '1', weight: 90 },
    { model: 'tabular', version: '2', weight: 10 },
  ],
};

async function withAb(): Promise<Router> {
  const { router } = await memoryRouter({ ab: AB });
  routers.push(router);
  return router;
}

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('admin validation: a rejected update is a 400 with the reason, and the route is left exactly as it was', () => {
  const bad: [string, unknown, RegExp][] = [
    ['unknown model', { ...AB, targets: [{ model: 'nope', version: '1', weight: 1 }] }, /targets\[0\]\.model: unknown model "nope"/],
    ['unknown version', { ...AB, targets: [{ model: 'tabular', version: '7', weight: 1 }] }, /targets\[0\]\.version: model "tabular" has no version "7"; it serves 1, 2/],
    ['negative weight', { ...AB, targets: [{ model: 'tabular', version: '1', weight: -5 }] }, /targets\[0\]\.weight: got -5, expected a number >= 0/],
    ['all-zero weights', { ...AB, targets: [{ model: 'tabular', version: '1', weight: 0 }, { model: 'tabular', version: '2', weight: 0 }] }, /every weight is 0/],
    ['unknown policy', { policy: 'roulette', targets: [] }, /policy: got "roulette", expected one of weighted \| canary \| bandit/],
    ['unknown field', { ...AB, stiky: { header: 'x' } }, /stiky: unknown key, expected one of .* \(did you mean "sticky"\?\)/],
    ['unknown field in a target', { ...AB, targets: [{ model: 'tabular', version: '1', weight: 1, colour: 'blue' }] }, /targets\[0\]\.colour: unknown key/],
    ['a duplicate target', { ...AB, targets: [AB.targets[0], AB.targets[0]] }, /targets\[1\]: tabular:1 is listed twice/],
    ['not a mapping', [1, 2], /the spec: got \[1,2\], expected a route spec/],
    ['canary steps that do not increase', { policy: 'canary', baseline: { model: 'tabular', version: 1 }, candidate: { model: 'tabular', version: 2 }, steps: [50, 10] }, /steps\[1\]: got 10, expected more than steps\[0\]/],
    ['a canary onto itself', { policy: 'canary', baseline: { model: 'tabular', version: 1 }, candidate: { model: 'tabular', version: 1 } }, /the same target as baseline/],
    ['epsilon without epsilon_greedy', { policy: 'bandit', algorithm: 'ucb1', epsilon: 0.2, targets: [{ model: 'tabular', version: 1 }, { model: 'tabular', version: 2 }] }, /epsilon: applies to algorithm epsilon_greedy only/],
    ['a one-armed bandit', { policy: 'bandit', targets: [{ model: 'tabular', version: 1 }] }, /targets: got .*, expected a list of at least 2/],
    ['an unknown shadow', { ...AB, shadow: [{ model: 'tabular', version: '3', percent: 10 }] }, /shadow\[0\]\.version: model "tabular" has no version "3"/],
    ['a shadow percent over 100', { ...AB, shadow: [{ model: 'tabular', version: '2', percent: 150 }] }, /shadow\[0\]\.percent: got 150, expected a number 0\.\.100/],
  ];

  for (const [what, spec, reason] of bad) {
    it(`PUT with ${what}`, async () => {
      const router = await withAb();
      const before = router.get('ab');
      const e = await rejection(router.put('ab', spec, 'alice'));
      expect(e.code).toBe('SY_ERR_BAD_REQUEST');
      expect(e.httpStatus).toBe(400);
      expect(e.message).toMatch(/^route "ab" was not changed: /);
      expect(e.message).toMatch(reason);
      expect(router.get('ab')).toEqual(before);
      expect(await router.audit()).toHaveLength(1); // the config's create only
    });
  }

  it('PATCH with a bad weight or an unknown target key changes nothing', async () => {
    const router = await withAb();
    const before = router.get('ab');
    expect((await rejection(router.patch('ab', { weights: { 'tabular:1': -1 } }, 'a'))).message).toMatch(/targets\[0\]\.weight: got -1/);
    expect((await rejection(router.patch('ab', { weights: { 'tabular:3': 5 } }, 'a'))).message).toMatch(/weights\.tabular:3: not a target of the route; its targets are tabular:1, tabular:2/);
    expect((await rejection(router.patch('ab', { weights: { 'tabular:1': 0, 'tabular:2': 0 } }, 'a'))).message).toMatch(/every weight is 0/);
    expect((await rejection(router.patch('ab', 'weights=1', 'a'))).message).toMatch(/the patch: expected a mapping/);
    expect(router.get('ab')).toEqual(before);
  });

  it('route names follow the model name rules and may not be the name of a model', async () => {
    const router = await withAb();
    expect((await rejection(router.put('tabular', AB, 'a'))).message).toMatch(/"tabular" is the name of a model; a route needs a name of its own/);
    expect((await rejection(router.put('../etc', AB, 'a'))).message).toMatch(/invalid route name/);
    expect(router.list().map((r) => r.name)).toEqual(['ab']);
  });

  it('unknown routes are 404 for get, patch, remove and actions', async () => {
    const router = await withAb();
    expect(() => router.get('nope')).toThrow(expect.objectContaining({ httpStatus: 404 }) as Error);
    for (const p of [router.patch('nope', {}, 'a'), router.remove('nope', 'a'), router.action('nope', 'pause', 'a')]) {
      expect((await rejection(p)).httpStatus).toBe(404);
    }
  });
});

describe('admin operations', () => {
  it('PUT creates and replaces, PATCH merges, DELETE removes; each is audited with who, what, before and after', async () => {
    const clock = new ManualClock();
    const { router } = await memoryRouter({}, { clock });
    routers.push(router);
    const created = await router.put('ab', AB, 'alice');
    expect(created).toMatchObject({ name: 'ab', policy: 'weighted', from_config: false, targets: [{ model: 'tabular', version: '1', requests: 0, errors: 0 }, { version: '2' }] });
    // the stored spec is normalised: defaults filled in
    expect(created.spec).toEqual({ ...AB, shadow: [], allow_pinning: true });

    await clock.advance(1000);
    await router.patch('ab', { sticky: { header: 'X-User' }, weights: { 'tabular:2': 30 } }, 'bob');
    const patched = router.get('ab');
    expect(patched.spec).toMatchObject({ sticky: { header: 'x-user' }, targets: [{ weight: 90 }, { weight: 30 }] });
    expect(patched.revision).toBeGreaterThan(created.revision);
    await router.patch('ab', { sticky: null }, 'bob');
    expect(router.get('ab').spec).not.toHaveProperty('sticky');

    await router.put('ab', { ...AB, targets: [{ model: 'heavy', version: 1, weight: 1 }] }, 'carol');
    expect(router.get('ab').spec).toMatchObject({ targets: [{ model: 'heavy', version: '1', weight: 1 }] });

    await router.remove('ab', 'dave');
    expect(router.has('ab')).toBe(false);
    expect(router.list()).toEqual([]);

    const audit = await router.audit();
    expect(audit.map((e) => [e.actor, e.action])).toEqual([
      ['dave', 'delete'],
      ['carol', 'replace'],
      ['bob', 'patch'],
      ['bob', 'patch'],
      ['alice', 'create'],
    ]);
    expect(audit[4]).toMatchObject({ route: 'ab', before: null, after: { policy: 'weighted' }, at: new Date(Date.UTC(2025, 0, 1)).toISOString() });
    expect(audit[3].before).toMatchObject({ targets: [{ weight: 90 }, { weight: 10 }] });
    expect(audit[3].after).toMatchObject({ targets: [{ weight: 90 }, { weight: 30 }] });
    expect(audit[0]).toMatchObject({ before: { targets: [{ model: 'heavy' }] }, after: null });
    expect(await router.audit(2)).toHaveLength(2);
  });

  it('canary actions are audited with the state before and after', async () => {
    const { router } = await memoryRouter({
      rel: { policy: 'canary', baseline: { model: 'tabular', version: '1' }, candidate: { model: 'tabular', version: '2' } },
    });
    routers.push(router);
    await router.action('rel', 'pause', 'erin');
    const [entry] = await router.audit(1);
    expect(entry).toMatchObject({ actor: 'erin', action: 'pause', route: 'rel', before: { state: 'progressing', step: 0, percent: 5 }, after: { state: 'paused', step: 0, percent: 5 } });
  });

  it('list and get show per-target request counts', async () => {
    const router = await withAb();
    for (let i = 0; i < 100; i++) {
      const d = router.pick('ab', { requestId: '', header: () => null });
      router.record(d, { ok: i % 4 !== 0, latencyUs: 100 });
    }
    const [view] = router.list();
    expect(view.targets.reduce((s, t) => s + t.requests, 0)).toBe(100);
    expect(view.targets.reduce((s, t) => s + t.errors, 0)).toBe(25);
    expect(view.canary).toBeNull();
    expect(view.bandit).toBeNull();
  });
});

describe('routes from the config', () => {
  it('an invalid config route fails the start with the route named', async () => {
    const store = new MemoryRouteStore();
    await expect(Router.create({ routes: { ab: { ...AB, targets: [{ model: 'tabular', version: '9', weight: 1 }] } }, store, catalog: catalogOf(), log: silentLogger })).rejects.toThrow(
      /route "ab" was not changed: targets\[0\]\.version: model "tabular" has no version "9"/,
    );
  });

  it('admin changes survive a restart with the same config; a changed config spec wins', async () => {
    const store = new MemoryRouteStore();
    const start = (routes: Record<string, unknown>) =>
      Router.create({ routes, store, catalog: catalogOf(), log: silentLogger, random: seededRandom(1), ownsStore: false });
    const first = await start({ ab: AB });
    expect(first.get('ab').from_config).toBe(true);
    await first.patch('ab', { weights: { 'tabular:1': 10, 'tabular:2': 90 } }, 'alice');
    await first.close();

    const second = await start({ ab: AB });
    expect(second.get('ab').spec).toMatchObject({ targets: [{ weight: 10 }, { weight: 90 }] });
    await second.close();

    const third = await start({ ab: { ...AB, targets: [{ model: 'tabular', version: '2', weight: 1 }] } });
    expect(third.get('ab').spec).toMatchObject({ targets: [{ model: 'tabular', version: '2', weight: 1 }] });
    const audit = await third.audit();
    expect(audit.map((e) => [e.actor, e.action])).toEqual([
      ['config', 'replace'],
      ['alice', 'patch'],
      ['config', 'create'],
    ]);
    await third.close();
  });
});

describe('optimistic concurrency: a change made against a stale revision changes nothing and carries the route as it is', () => {
  it('applies a change at the revision the caller read, refuses one against an older revision with the current state', async () => {
    const router = await withAb();
    const seen = router.get('ab');
    const weights = { weights: { 'tabular:1': 50, 'tabular:2': 50 } };
    const first = await router.patch('ab', weights, 'ui-1', seen.revision);
    expect(first.revision).toBeGreaterThan(seen.revision);
    // a second page still showing `seen` acts on it
    for (const stale of [
      router.patch('ab', { weights: { 'tabular:1': 0, 'tabular:2': 100 } }, 'ui-2', seen.revision),
      router.put('ab', AB, 'ui-2', seen.revision),
      router.remove('ab', 'ui-2', seen.revision),
    ]) {
      const e = await rejection(stale);
      expect(e.code).toBe('SY_ERR_CONFLICT');
      expect(e.httpStatus).toBe(409);
      expect(e.message).toMatch(new RegExp(`against revision ${seen.revision}, but it is at revision ${first.revision} now`));
      expect((e as unknown as { current: unknown }).current).toEqual(router.get('ab'));
    }
    expect(router.get('ab')).toEqual(first);
    expect((await router.audit(10)).filter((a) => a.actor === 'ui-2')).toEqual([]);
  });

  it('0 means create only: refused when the route exists, and a change to a route that is gone is a conflict with current null', async () => {
    const router = await withAb();
    const e = await rejection(router.put('ab', AB, 'ui', 0));
    expect(e.code).toBe('SY_ERR_CONFLICT');
    const created = await router.put('fresh', AB, 'ui', 0);
    expect(created.revision).toBeGreaterThan(0);
    await router.remove('fresh', 'ui', created.revision);
    const gone = await rejection(router.patch('fresh', { weights: { 'tabular:1': 1 } }, 'ui', created.revision));
    expect(gone.code).toBe('SY_ERR_CONFLICT');
    expect(gone.message).toMatch(/it does not exist now/);
    expect((gone as unknown as { current: unknown }).current).toBeNull();
  });

  it('without an expected revision a change applies to whatever is there, as before', async () => {
    const router = await withAb();
    await router.patch('ab', { weights: { 'tabular:1': 50, 'tabular:2': 50 } }, 'a');
    const r = await router.patch('ab', { weights: { 'tabular:1': 10, 'tabular:2': 90 } }, 'b');
    expect(r.spec).toMatchObject({ targets: [{ weight: 10 }, { weight: 90 }] });
  });
});
