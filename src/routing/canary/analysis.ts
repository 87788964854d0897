/**
 * The analysis of one canary step: the candidate's window against the baseline's.
 *   too few requests on either side          → extend the step (no decision on noise)
 *   candidate error rate > max_error_rate     → fail
 *   p99(candidate) / p99(baseline) > max      → fail
 *   mean reward ratio < min (both rewarded)   → fail
 *   otherwise                                 → pass
 * A pure function of the two sides' statistics. A fail or an extension names the gate that
 * decided it, with the value it measured and the configured limit.
 */
import type { CanaryAnalysisSpec } from '../spec.js';
import type { Verdict } from './state.js';
import type { SideStats } from './window.js';

/** The window as recorded in the canary's history (JSON field names). */
export interface SideSummary {
  readonly requests: number;
  readonly errors: number;
  readonly error_rate: number;
  readonly p99_ms: number | null;
  readonly rewards: number;
  readonly reward_mean: number | null;
}

export interface StepSummary {
  readonly baseline: SideSummary;
  readonly candidate: SideSummary;
}

const round = (x: number, digits: number): number => Number(x.toPrecision(digits));

export function summarise(s: SideStats): SideSummary {
  return {
    requests: s.requests,
    errors: s.errors,
    error_rate: round(s.errorRate, 4),
    p99_ms: s.p99Us === null ? null : round(s.p99Us / 1000, 4),
    rewards: s.rewards,
    reward_mean: s.rewardMean === null ? null : round(s.rewardMean, 6),
  };
}

const pct = (x: number): string => `${round(x * 100, 3)}%`;

export function analyseStep(baseline: SideStats, candidate: SideStats, a: CanaryAnalysisSpec): Verdict {
  if (baseline.requests < a.min_requests || candidate.requests < a.min_requests) {
    return {
      kind: 'extend',
      gate: { gate: 'min_requests', value: Math.min(baseline.requests, candidate.requests), limit: a.min_requests },
      reason: `too few requests to judge (baseline ${baseline.requests}, candidate ${candidate.requests}; min_requests ${a.min_requests} each): the step is extended`,
    };
  }
  if (candidate.errorRate > a.max_error_rate) {
    return {
      kind: 'fail',
      gate: { gate: 'max_error_rate', value: round(candidate.errorRate, 4), limit: a.max_error_rate },
      reason: `candidate error rate ${pct(candidate.errorRate)} (${candidate.errors} of ${candidate.requests}) is above max_error_rate ${pct(a.max_error_rate)}`,
    };
  }
  if (candidate.p99Us !== null && baseline.p99Us !== null && baseline.p99Us > 0) {
    const ratio = candidate.p99Us / baseline.p99Us;
    if (ratio > a.max_p99_latency_ratio) {
      return {
        kind: 'fail',
        gate: { gate: 'max_p99_latency_ratio', value: round(ratio, 4), limit: a.max_p99_latency_ratio },
        reason: `candidate p99 latency ${round(candidate.p99Us / 1000, 4)} ms is ${round(ratio, 3)}x the baseline's ${round(baseline.p99Us / 1000, 4)} ms (max_p99_latency_ratio ${a.max_p99_latency_ratio})`,
      };
    }
  }
  if (candidate.rewardMean !== null && baseline.rewardMean !== null) {
    // a ratio means little when the baseline's mean is not positive: then the candidate must not be lower
    const floor = baseline.rewardMean > 0 ? a.min_reward_ratio * baseline.rewardMean : baseline.rewardMean;
    if (candidate.rewardMean < floor) {
      return {
        kind: 'fail',
        // the ratio the gate compares (candidate / baseline mean); null when the baseline's mean is not positive
        gate: { gate: 'min_reward_ratio', value: baseline.rewardMean > 0 ? round(candidate.rewardMean / baseline.rewardMean, 4) : null, limit: a.min_reward_ratio },
        reason: `candidate mean reward ${round(candidate.rewardMean, 4)} is below ${a.min_reward_ratio} x the baseline's ${round(baseline.rewardMean, 4)} (min_reward_ratio)`,
      };
    }
  }
  return { kind: 'pass', gate: null, reason: 'every gate passed' };
}
