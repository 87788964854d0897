/**
 * A routing policy as one module: everything that differs between policies, from the spec a
 * client writes to the state the admin API shows. The router, the live route, validation,
 * views and changes call these through the table in policies/index.ts and never switch on
 * the policy name, so adding a policy is one module here plus its schema.
 */
import type { RouteSpecInput } from '../../config/route-schema.js';
import type { ArmTable } from '../bandit/index.js';
import type { CanaryState } from '../canary/state.js';
import type { CounterHash } from '../counters.js';
import type { Random } from '../random.js';
import type { RouteSpec, TargetSpec } from '../spec.js';
import type { CreditRecord, RouteRecord } from '../store/store.js';
import type { Target } from '../target.js';
import type { ArmView, CanaryView } from '../views.js';
import type { Policy } from './policy.js';

/** The keys every policy's spec has, already normalised. */
export interface CommonSpecParts {
  readonly shadow: RouteSpec['shadow'];
  readonly allow_pinning: boolean;
}

/** What a policy needs of a route being built (LiveRoute's constructor). */
export interface BuildContext<S extends RouteSpec> {
  readonly name: string;
  readonly record: RouteRecord;
  readonly spec: S;
  readonly targets: readonly Target[];
  readonly random: Random;
  /** the state this route's previous LiveRoute had, to take over */
  readonly previous: { readonly arms: ArmTable | null; readonly window: CounterHash | null } | null;
}

/** The policy-specific part of a live route. */
export interface LivePolicy {
  readonly picker: Policy;
  /** the header that keeps a client on one target, or null */
  readonly stickyHeader: string | null;
  readonly arms: ArmTable | null;
  /** canary: the current step's window */
  readonly window: CounterHash | null;
  /** per target: what its requests are remembered as for feedback, or null (no feedback) */
  readonly credits: readonly CreditRecord[] | null;
  /** canary: the step in force while progressing or paused, else null */
  readonly canaryStep: number | null;
}

/** What a live route offers a policy's view (see views.ts). */
export interface ViewedRoute<S extends RouteSpec> {
  readonly spec: S;
  readonly record: RouteRecord;
  readonly targets: readonly Target[];
  readonly arms: ArmTable | null;
  readonly window: CounterHash | null;
}

export interface PolicyView {
  readonly canary: CanaryView | null;
  readonly bandit: { readonly arms: readonly ArmView[] } | null;
}

/** Problems of a target reference (unknown model, unserved version), or null; from validate.ts. */
export type TargetCheck = (t: TargetSpec, at: string) => string | null;

export interface PolicyModule<S extends RouteSpec = RouteSpec> {
  readonly name: S['policy'];
  /** A schema-checked input of this policy → the complete spec (defaults filled in). */
  normalise(input: RouteSpecInput, common: CommonSpecParts): S;
  /** Every target a primary request can go to, in spec order. */
  targets(spec: S): readonly TargetSpec[];
  /** The rules beyond the schema (targets served, keys that must agree); `raw` is the spec as sent. */
  check(spec: S, raw: Readonly<Record<string, unknown>>, target: TargetCheck): string[];
  /** The state a route with this spec starts with, or keeps from `current` (a canary's run). */
  initialState(spec: S, current: { readonly spec: RouteSpec; readonly state: CanaryState | null } | null, now: number, actor: string): CanaryState | null;
  build(ctx: BuildContext<S>): LivePolicy;
  view(route: ViewedRoute<S>): PolicyView;
  /** Counter hashes a change from `before` (of this policy) to `after` makes meaningless. */
  dropCounters(name: string, before: S, after: RouteSpec): string[];
}

/** The checks of a policy whose targets are a list: each served, none twice. */
export function listedTargetProblems(targets: readonly TargetSpec[], target: TargetCheck): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    const p = target(t, `targets[${i}]`);
    if (p !== null) problems.push(p);
    const key = `${t.model}:${t.version}`;
    if (seen.has(key)) problems.push(`targets[${i}]: ${key} is listed twice; each target appears once`);
    seen.add(key);
  });
  return problems;
}

export const ref = (t: { readonly model: string; readonly version: string | number }): TargetSpec => ({ model: t.model, version: String(t.version) });
