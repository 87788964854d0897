/**
 * What the admin API shows of a route (GET /admin/routes/{name}): its spec and live state,
 * in the protocol's snake_case. Counts are the sum over replicas as of the last sync.
 */
import type { CanaryEvent, CanaryStatus } from './canary/state.js';
import type { StepSummary } from './canary/analysis.js';
import { policyOf } from './policies/index.js';
import type { LiveRoute } from './live-route.js';
import type { RouteSpec } from './spec.js';

export interface TargetCountsView {
  readonly model: string;
  readonly version: string;
  readonly requests: number;
  readonly errors: number;
}

export interface CanaryView {
  readonly state: CanaryStatus;
  readonly step: number;
  /** the candidate's share of the traffic now */
  readonly percent: number;
  readonly step_started_at: string;
  /** when the current step is analysed (progressing only), else null */
  readonly next_analysis_at: string | null;
  /** the current step's window so far */
  readonly window: StepSummary;
  readonly history: readonly (Omit<CanaryEvent, 'at'> & { at: string })[];
}

export interface ArmView {
  readonly model: string;
  readonly version: string;
  readonly pulls: number;
  readonly rewards: number;
  readonly reward_sum: number;
  readonly reward_mean: number | null;
}

export interface RouteView {
  readonly name: string;
  readonly policy: RouteSpec['policy'];
  readonly spec: RouteSpec;
  readonly revision: number;
  readonly updated_at: string;
  /** whether the route was created from the config file (an admin change keeps it so until the file's spec changes) */
  readonly from_config: boolean;
  readonly targets: readonly TargetCountsView[];
  readonly canary: CanaryView | null;
  readonly bandit: { readonly arms: readonly ArmView[] } | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function routeView(route: LiveRoute): RouteView {
  const { spec, record } = route;
  const targets = route.targets.map((t, i) => ({
    model: t.model,
    version: t.version,
    requests: route.counts.value(2 * i),
    errors: route.counts.value(2 * i + 1),
  }));
  const { canary, bandit } = policyOf(spec).view({ spec, record, targets: route.targets, arms: route.arms, window: route.window });
  return {
    name: route.name,
    policy: spec.policy,
    spec,
    revision: record.revision,
    updated_at: iso(record.updatedAt),
    from_config: record.seed !== null,
    targets,
    canary,
    bandit,
  };
}
