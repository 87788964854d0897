/**
 * The cases every routing policy must pass, run against each module of the policy table
 * (src/routing/policies/index.ts): a new policy gets them by adding its module and one
 * fixture here. What only one policy does (weighted splits and stickiness, canary steps,
 * bandit learning) is tested in its own file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { routeSpecIssues } from '../../src/config/route-schema.js';
import { normaliseRouteSpec, type RouteSpec, type Router } from '../../src/routing/index.js';
import { POLICIES, policyOf } from '../../src/routing/policies/index.js';
import { primaryTargets } from '../../src/routing/spec.js';
import { checkRouteSpec } from '../../src/routing/validate.js';
import { catalogOf, memoryRouter, NO_HEADERS, request } from './helpers.js';

/** Per policy: a spec with the two targets tabular:1 and tabular:2 (in that order), nothing else set. */
const FIXTURES: { readonly [P in keyof typeof POLICIES]: Record<string, unknown> } = {
  weighted: {
    policy: 'weighted',
    targets: [
      { model: 'tabular', version: 1, weight: 50 },
      { model: 'tabular', version: 2, weight: 50 },
    ],
  },
  canary: { policy: 'canary', baseline: { model: 'tabular', version: 1 }, candidate: { model: 'tabular', version: 2 }, steps: [50, 100] },
  bandit: { policy: 'bandit', targets: [{ model: 'tabular', version: '1' }, { model: 'tabular', version: '2' }] },
};

const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

async function routerWith(fixture: Record<string, unknown>): Promise<Router> {
  const { router } = await memoryRouter({ r: fixture }, { seed: 3 });
  routers.push(router);
  return router;
}

describe.each(Object.keys(POLICIES) as (keyof typeof POLICIES)[])('routing policy %s', (name) => {
  const fixture = FIXTURES[name];

  it('has a fixture the schema accepts, and its module is the one the table gives for its specs', () => {
    expect(routeSpecIssues(fixture, 'spec')).toEqual([]);
    const spec = normaliseRouteSpec(fixture as never);
    expect(spec.policy).toBe(name);
    expect(policyOf(spec)).toBe(POLICIES[name]);
    expect(POLICIES[name].name).toBe(name);
  });

  it('normalises to a complete, frozen spec that normalises to itself (a view sent back to PUT gives the same route)', () => {
    const spec = normaliseRouteSpec(fixture as never);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(spec.shadow).toEqual([]);
    expect(spec.allow_pinning).toBe(true);
    expect(routeSpecIssues(JSON.parse(JSON.stringify(spec)), 'spec')).toEqual([]);
    expect(normaliseRouteSpec(JSON.parse(JSON.stringify(spec)) as never)).toEqual(spec);
  });

  it('lists its two targets in spec order, versions as strings', () => {
    expect(primaryTargets(normaliseRouteSpec(fixture as never)).map((t) => [t.model, t.version])).toEqual([
      ['tabular', '1'],
      ['tabular', '2'],
    ]);
  });

  it('is refused with the key path when a target is not served, and accepted when both are', () => {
    expect(checkRouteSpec('r', fixture, catalogOf({ tabular: ['1', '2'] }))).not.toBeInstanceOf(Error);
    const refused = checkRouteSpec('r', fixture, catalogOf({ tabular: ['1'] }));
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/version: model "tabular" has no version "2"; it serves 1/);
  });

  it('sends every request to one of its targets, naming itself in the decision', async () => {
    const router = await routerWith(fixture);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const d = router.pick('r', request(`q${i}`));
      expect(d.policy).toBe(name);
      expect(d.route).toBe('r');
      seen.add(d.target.key);
      router.record(d, { ok: true, latencyUs: 100 });
    }
    expect([...seen].every((k) => k === 'tabular:1' || k === 'tabular:2')).toBe(true);
    expect(seen.size).toBeGreaterThan(0);
    const view = router.get('r');
    expect(view.policy).toBe(name);
    expect(view.targets.reduce((n, t) => n + t.requests, 0)).toBe(400);
  });

  it('lets a client pin either target with x-switchyard-target, and refuses a model that is not one', async () => {
    const router = await routerWith(fixture);
    for (const key of ['tabular:1', 'tabular:2']) {
      const d = router.pick('r', request('p', { 'x-switchyard-target': key }));
      expect(d.target.key).toBe(key);
      expect(d.pinned).toBe(true);
    }
    expect(() => router.pick('r', request('p', { 'x-switchyard-target': 'heavy:1' }))).toThrow(/is not a target of route "r"/);
  });

  it('shows its state in the view: canary its step, bandit its arms, weighted neither', async () => {
    const router = await routerWith(fixture);
    router.pick('r', NO_HEADERS);
    const view = router.get('r');
    expect(view.canary !== null).toBe(name === 'canary');
    expect(view.bandit !== null).toBe(name === 'bandit');
    if (view.bandit !== null) expect(view.bandit.arms.map((a) => `${a.model}:${a.version}`)).toEqual(['tabular:1', 'tabular:2']);
  });

  it('drops no statistics when the spec is replaced by the same spec', () => {
    const spec: RouteSpec = normaliseRouteSpec(fixture as never);
    expect(policyOf(spec).dropCounters('r', spec, spec)).toEqual([]);
  });

  it('survives a replace with the same spec, still routing to its targets', async () => {
    const router = await routerWith(fixture);
    const before = router.get('r').revision;
    const after = await router.put('r', fixture, 'test');
    expect(after.revision).toBeGreaterThan(before);
    expect(['tabular:1', 'tabular:2']).toContain(router.pick('r', NO_HEADERS).target.key);
  });
});
