/**
 * The canary state machine, as plain data (stored as JSON, shared by replicas) and pure
 * transitions. A canary is `progressing` through its steps, `paused` (traffic stays at the
 * step's split, no decisions), `promoted` (the candidate takes all traffic) or
 * `rolled_back` (the baseline takes all traffic). `epoch` numbers the analysis windows: a
 * new step or a resume starts a new window; an extension keeps collecting into the same one.
 */
import type { CanarySpec } from '../spec.js';
import type { StepSummary } from './analysis.js';

export type CanaryStatus = 'progressing' | 'paused' | 'promoted' | 'rolled_back';
export type CanaryEventKind = 'start' | 'advance' | 'extend' | 'promote' | 'rollback' | 'pause' | 'resume';
export type CanaryAction = 'pause' | 'resume' | 'promote' | 'rollback';

/** The gate that decided an analysis (fail, or extend for too few requests): the value measured and its configured limit. */
export interface CanaryGate {
  readonly gate: 'min_requests' | 'max_error_rate' | 'max_p99_latency_ratio' | 'min_reward_ratio';
  /** min_requests: the smaller side's requests; max_error_rate: the candidate's; ratios: candidate / baseline (null when undefined) */
  readonly value: number | null;
  readonly limit: number;
}

export interface CanaryEvent {
  /** ms since the epoch */
  readonly at: number;
  readonly event: CanaryEventKind;
  /** the step index after the event */
  readonly step: number;
  /** the candidate's percent after the event */
  readonly percent: number;
  readonly reason: string;
  /** who: an admin API caller, or "canary" for the automatic analysis */
  readonly actor: string;
  /** the window the analysis judged (advance, extend, automatic rollback), or null */
  readonly analysis: StepSummary | null;
  /**
   * The gate that decided an automatic rollback or extension, else null. Optional: states
   * written before the field existed (a shared store outlives an upgrade) lack it.
   */
  readonly gate?: CanaryGate | null;
}

export interface CanaryState {
  /** names this canary run (a restart of the route gets a new one): part of its windows' keys */
  readonly id: string;
  readonly status: CanaryStatus;
  /** index into the spec's steps */
  readonly step: number;
  /** when the current step (or its extension) started, ms since the epoch */
  readonly stepStartedAt: number;
  readonly epoch: number;
  readonly history: readonly CanaryEvent[];
}

/** The actor of transitions made by the analysis. */
export const CANARY_ACTOR = 'canary';
/** History entries kept (the oldest are dropped). */
export const MAX_HISTORY = 100;

/** The candidate's share of the traffic (percent) in `state`. */
export function candidatePercent(spec: CanarySpec, state: CanaryState): number {
  switch (state.status) {
    case 'promoted':
      return 100;
    case 'rolled_back':
      return 0;
    default:
      return spec.steps[state.step];
  }
}

function withEvent(state: CanaryState, next: Omit<CanaryState, 'history'>, spec: CanarySpec, event: Omit<CanaryEvent, 'step' | 'percent'>): CanaryState {
  const full: CanaryEvent = { ...event, step: next.step, percent: candidatePercent(spec, { ...next, history: [] }) };
  const history = [...state.history, full];
  return { ...next, history: history.length > MAX_HISTORY ? history.slice(history.length - MAX_HISTORY) : history };
}

/** A new canary at its first step (promoted at once when that step is 100%). */
export function startCanary(spec: CanarySpec, now: number, actor: string, id: string): CanaryState {
  const empty: CanaryState = { id, status: 'progressing', step: 0, stepStartedAt: now, epoch: 1, history: [] };
  if (spec.steps[0] >= 100) {
    return withEvent(empty, { ...empty, status: 'promoted' }, spec, { at: now, event: 'promote', reason: 'the first step sends all traffic to the candidate', actor, analysis: null });
  }
  return withEvent(empty, empty, spec, { at: now, event: 'start', reason: `started at ${spec.steps[0]}%`, actor, analysis: null });
}

export type Verdict =
  | { readonly kind: 'pass'; readonly reason: string; readonly gate: null }
  | { readonly kind: 'fail'; readonly reason: string; readonly gate: CanaryGate }
  | { readonly kind: 'extend'; readonly reason: string; readonly gate: CanaryGate };

/** The state after the analysis of the current step. Only a progressing canary is analysed. */
export function afterAnalysis(spec: CanarySpec, state: CanaryState, verdict: Verdict, summary: StepSummary, now: number): CanaryState {
  if (state.status !== 'progressing') return state;
  const event = { at: now, reason: verdict.reason, actor: CANARY_ACTOR, analysis: summary, gate: verdict.gate };
  switch (verdict.kind) {
    case 'extend':
      return withEvent(state, { ...state, stepStartedAt: now }, spec, { ...event, event: 'extend' });
    case 'fail':
      return withEvent(state, { ...state, status: 'rolled_back', stepStartedAt: now }, spec, { ...event, event: 'rollback' });
    case 'pass': {
      const next = state.step + 1;
      if (next >= spec.steps.length || spec.steps[next] >= 100) {
        const last = Math.min(next, spec.steps.length - 1);
        return withEvent(state, { ...state, status: 'promoted', step: last, stepStartedAt: now }, spec, { ...event, event: 'promote' });
      }
      return withEvent(state, { ...state, status: 'progressing', step: next, stepStartedAt: now, epoch: state.epoch + 1 }, spec, { ...event, event: 'advance' });
    }
  }
}

const ALLOWED: Readonly<Record<CanaryAction, readonly CanaryStatus[]>> = {
  pause: ['progressing'],
  resume: ['paused'],
  promote: ['progressing', 'paused', 'rolled_back'],
  rollback: ['progressing', 'paused', 'promoted'],
};

/** Why `action` does not apply in `state`, or null when it does. */
export function actionProblem(state: CanaryState, action: CanaryAction): string | null {
  if (ALLOWED[action].includes(state.status)) return null;
  return `${action} applies to a canary that is ${ALLOWED[action].join(' or ')}; this one is ${state.status}`;
}

/** The state after a release engineer's action (the caller checked actionProblem). */
export function afterAction(spec: CanarySpec, state: CanaryState, action: CanaryAction, now: number, actor: string): CanaryState {
  const event = { at: now, actor, analysis: null };
  switch (action) {
    case 'pause':
      return withEvent(state, { ...state, status: 'paused' }, spec, { ...event, event: 'pause', reason: `paused by ${actor}` });
    case 'resume':
      return withEvent(state, { ...state, status: 'progressing', stepStartedAt: now, epoch: state.epoch + 1 }, spec, { ...event, event: 'resume', reason: `resumed by ${actor}; the step starts over` });
    case 'promote':
      return withEvent(state, { ...state, status: 'promoted', stepStartedAt: now }, spec, { ...event, event: 'promote', reason: `promoted by ${actor}` });
    case 'rollback':
      return withEvent(state, { ...state, status: 'rolled_back', stepStartedAt: now }, spec, { ...event, event: 'rollback', reason: `rolled back by ${actor}` });
  }
}

/**
 * The state of an updated canary spec: kept (the step clamped to the new steps) when
 * baseline, candidate and steps are unchanged, else a fresh start.
 */
export function carryCanaryState(before: CanarySpec, after: CanarySpec, state: CanaryState, now: number, actor: string, id: string): CanaryState {
  const same =
    before.baseline.model === after.baseline.model &&
    before.baseline.version === after.baseline.version &&
    before.candidate.model === after.candidate.model &&
    before.candidate.version === after.candidate.version &&
    before.steps.length === after.steps.length &&
    before.steps.every((s, i) => s === after.steps[i]);
  return same ? state : startCanary(after, now, actor, id);
}
