/**
 * A route spec after normalising: every optional key filled in with its default, versions
 * as strings, the sticky header in lower case, frozen. It has the shape of the input (a
 * normalised spec sent back to PUT /admin/routes/{name} gives the same route), so admin
 * views and the audit show it as is.
 */
import { ROUTE_DEFAULTS, type RouteSpecInput } from '../config/route-schema.js';
import { deepFreeze } from '../config/merge.js';
import { policyNamed, policyOf } from './policies/index.js';

export interface TargetSpec {
  readonly model: string;
  readonly version: string;
}
export interface WeightedTargetSpec extends TargetSpec {
  readonly weight: number;
}
export interface ShadowSpec extends TargetSpec {
  readonly percent: number;
}

interface CommonSpec {
  readonly shadow: readonly ShadowSpec[];
  readonly allow_pinning: boolean;
}

export interface WeightedSpec extends CommonSpec {
  readonly policy: 'weighted';
  readonly targets: readonly WeightedTargetSpec[];
  readonly sticky?: { readonly header: string };
}

export interface CanaryAnalysisSpec {
  readonly min_requests: number;
  readonly max_error_rate: number;
  readonly max_p99_latency_ratio: number;
  readonly min_reward_ratio: number;
}

export interface CanarySpec extends CommonSpec {
  readonly policy: 'canary';
  readonly baseline: TargetSpec;
  readonly candidate: TargetSpec;
  readonly steps: readonly number[];
  readonly step_interval_s: number;
  readonly analysis: CanaryAnalysisSpec;
}

export type BanditAlgorithmName = 'thompson' | 'ucb1' | 'epsilon_greedy';
export type RewardKind = 'bernoulli' | 'gaussian';

export interface BanditSpec extends CommonSpec {
  readonly policy: 'bandit';
  readonly algorithm: BanditAlgorithmName;
  readonly reward: RewardKind;
  /** present for epsilon_greedy only */
  readonly epsilon?: number;
  readonly targets: readonly TargetSpec[];
}

export type RouteSpec = WeightedSpec | CanarySpec | BanditSpec;

/** A spec that passed the schema check → the complete, frozen spec (its policy module fills the defaults). */
export function normaliseRouteSpec(input: RouteSpecInput): RouteSpec {
  const common = {
    shadow: (input.shadow ?? []).map((s) => ({ model: s.model, version: String(s.version), percent: s.percent })),
    allow_pinning: input.allow_pinning ?? ROUTE_DEFAULTS.allow_pinning,
  };
  return deepFreeze(policyNamed(input.policy).normalise(input, common)) as RouteSpec;
}

/** Every target a spec can send a primary request to, in spec order (canary: baseline, candidate). */
export function primaryTargets(spec: RouteSpec): readonly TargetSpec[] {
  return policyOf(spec).targets(spec);
}
