import type { RouteSpec } from '../spec.js';
import { banditPolicy } from './bandit.js';
import { canaryPolicy } from './canary.js';
import type { PolicyModule } from './module.js';
import { weightedPolicy } from './weighted.js';

export type { Policy } from './policy.js';
export { WeightedPolicy, weightedPolicy } from './weighted.js';
export { CanaryPolicy, BASELINE, CANDIDATE, canaryPolicy } from './canary.js';
export { BanditPolicy, banditPolicy } from './bandit.js';
export type { BuildContext, CommonSpecParts, LivePolicy, PolicyModule, PolicyView, TargetCheck, ViewedRoute } from './module.js';

/** Every routing policy by the name a route spec gives it (`policy:`). */
export const POLICIES: { readonly [P in RouteSpec['policy']]: PolicyModule<Extract<RouteSpec, { policy: P }>> } = {
  weighted: weightedPolicy,
  canary: canaryPolicy,
  bandit: banditPolicy,
};

/**
 * The module of `spec`'s policy. The cast is the one place where the table's per-policy
 * types meet a spec of any policy: POLICIES[p] takes exactly the specs whose policy is p,
 * which TypeScript cannot follow through an index by a union.
 */
export function policyOf<S extends RouteSpec>(spec: S): PolicyModule<S> {
  return POLICIES[spec.policy] as unknown as PolicyModule<S>;
}

/** The module of a policy name from a schema-checked input. */
export function policyNamed(name: RouteSpec['policy']): PolicyModule {
  return POLICIES[name] as unknown as PolicyModule;
}
