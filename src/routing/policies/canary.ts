/**
 * Canary assignment: the candidate (index 1) gets its step's percent of the requests at
 * random, the baseline (index 0) the rest; 100% once promoted, 0% once rolled back. The
 * route sets the percent whenever the canary state changes.
 */
import { ROUTE_DEFAULTS, type CanaryRouteInput } from '../../config/route-schema.js';
import { summarise } from '../canary/analysis.js';
import { candidatePercent, carryCanaryState, startCanary } from '../canary/state.js';
import { rewardPrefix, sideStats, stepWindow } from '../canary/window.js';
import { newRunId } from '../run-id.js';
import type { Random } from '../random.js';
import type { CanarySpec } from '../spec.js';
import { ref, type PolicyModule } from './module.js';
import type { Policy } from './policy.js';

export const BASELINE = 0;
export const CANDIDATE = 1;

export class CanaryPolicy implements Policy {
  private percent: number;

  constructor(
    percent: number,
    private readonly random: Random,
  ) {
    this.percent = percent;
  }

  setPercent(percent: number): void {
    this.percent = percent;
  }

  pick(): number {
    if (this.percent <= 0) return BASELINE;
    if (this.percent >= 100) return CANDIDATE;
    return this.random() * 100 < this.percent ? CANDIDATE : BASELINE;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Canary routes: the candidate's share grows step by step while its analysis passes. */
export const canaryPolicy: PolicyModule<CanarySpec> = {
  name: 'canary',
  normalise(input, common) {
    const c = input as CanaryRouteInput;
    return {
      policy: 'canary',
      baseline: ref(c.baseline),
      candidate: ref(c.candidate),
      steps: [...(c.steps ?? ROUTE_DEFAULTS.steps)],
      step_interval_s: c.step_interval_s ?? ROUTE_DEFAULTS.step_interval_s,
      analysis: { ...ROUTE_DEFAULTS.analysis, ...(c.analysis ?? {}) },
      ...common,
    };
  },
  targets: (spec) => [spec.baseline, spec.candidate],
  check(spec, _raw, target) {
    const problems: string[] = [];
    for (const p of [target(spec.baseline, 'baseline'), target(spec.candidate, 'candidate')]) if (p !== null) problems.push(p);
    if (spec.baseline.model === spec.candidate.model && spec.baseline.version === spec.candidate.version) {
      problems.push('candidate: the same target as baseline; a canary moves traffic between two different targets');
    }
    for (let i = 1; i < spec.steps.length; i++) {
      if (spec.steps[i] <= spec.steps[i - 1]) problems.push(`steps[${i}]: got ${spec.steps[i]}, expected more than steps[${i - 1}] (${spec.steps[i - 1]}): steps increase`);
    }
    return problems;
  },
  initialState(spec, current, now, actor) {
    // a PATCH carries the run over when it can; anything else starts one
    return current !== null && current.state !== null && current.spec.policy === 'canary'
      ? carryCanaryState(current.spec, spec, current.state, now, actor, newRunId())
      : startCanary(spec, now, actor, newRunId());
  },
  build(ctx) {
    const state = ctx.record.canary;
    if (state === null) throw new Error(`canary route "${ctx.name}" has no canary state`);
    const window = stepWindow(ctx.name, state, ctx.previous?.window ?? null);
    const active = state.status === 'progressing' || state.status === 'paused';
    return {
      picker: new CanaryPolicy(candidatePercent(ctx.spec, state), ctx.random),
      stickyHeader: null,
      arms: null,
      window,
      // rewards count for the analysis of an active canary only
      credits: active
        ? [
            { route: ctx.name, hash: window.key, prefix: rewardPrefix('baseline'), reward: 'g' },
            { route: ctx.name, hash: window.key, prefix: rewardPrefix('candidate'), reward: 'g' },
          ]
        : null,
      canaryStep: active ? state.step : null,
    };
  },
  view(route) {
    const state = route.record.canary;
    if (state === null || route.window === null) return { canary: null, bandit: null };
    const spec = route.spec;
    return {
      canary: {
        state: state.status,
        step: state.step,
        percent: candidatePercent(spec, state),
        step_started_at: iso(state.stepStartedAt),
        next_analysis_at: state.status === 'progressing' ? iso(state.stepStartedAt + spec.step_interval_s * 1000) : null,
        window: { baseline: summarise(sideStats(route.window, 'baseline')), candidate: summarise(sideStats(route.window, 'candidate')) },
        history: state.history.map((e) => ({ ...e, at: iso(e.at) })),
      },
      bandit: null,
    };
  },
  dropCounters: () => [],
};
