/**
 * What the admin API shows of a route (GET /admin/routes/{name}): its spec and live state,
 * in the protocol's snake_case. Counts are the sum over replicas as of the last sync.
 */
import { candidatePercent, type CanaryEvent, type CanaryStatus } from './canary/state.js';
import { sideStats } from './canary/window.js';
import { summarise, type StepSummary } from './canary/analysis.js';
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
  let canary: CanaryView | null = null;
  if (spec.policy === 'canary' && record.canary !== null && route.window !== null) {
    const state = record.canary;
    canary = {
      state: state.status,
      step: state.step,
      percent: candidatePercent(spec, state),
      step_started_at: iso(state.stepStartedAt),
      next_analysis_at: state.status === 'progressing' ? iso(state.stepStartedAt + spec.step_interval_s * 1000) : null,
      window: { baseline: summarise(sideStats(route.window, 'baseline')), candidate: summarise(sideStats(route.window, 'candidate')) },
      history: state.history.map((e) => ({ ...e, at: iso(e.at) })),
    };
  }
  const arms = route.arms;
  const bandit =
    arms === null
      ? null
      : {
          arms: route.targets.map((t, i) => ({
            model: t.model,
            version: t.version,
            pulls: arms.pulls(i),
            rewards: arms.rewards(i),
            reward_sum: arms.sum(i),
            reward_mean: arms.mean(i),
          })),
        };
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
