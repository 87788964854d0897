/**
 * Routing events on `node:diagnostics_channel`. Metrics subscribe (src/telemetry/route-metrics.ts);
 * routing builds a payload only when a channel has subscribers, and imports no metrics library.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { StepSummary } from './canary/analysis.js';
import type { CanaryEventKind, CanaryGate, CanaryStatus } from './canary/state.js';

/** Published by Router.record once per routed request; the message is the Decision (ok and latencyUs set). */
export const ROUTE_REQUEST_CHANNEL = 'switchyard:route:request';
/** Published for each shadow copy: compared, failed or dropped. */
export const ROUTE_SHADOW_CHANNEL = 'switchyard:route:shadow';
/** Published for each feedback call. */
export const ROUTE_FEEDBACK_CHANNEL = 'switchyard:route:feedback';
/** Published on each canary transition (automatic or manual). */
export const ROUTE_CANARY_CHANNEL = 'switchyard:route:canary';
/** Published periodically (and on close): a snapshot of every route's arms and canary state. */
export const ROUTE_STATS_CHANNEL = 'switchyard:route:stats';

export interface ShadowEvent {
  readonly route: string;
  /** `model:version` of the shadow target */
  readonly target: string;
  readonly outcome: 'compared' | 'failed' | 'dropped';
  /** compared: argmax agreement over every row, null without classifier-like outputs */
  readonly agree: boolean | null;
  /** compared: the largest absolute difference; else null */
  readonly maxAbsDiff: number | null;
  /** compared: the outputs had different names, datatypes or shapes */
  readonly mismatch: boolean;
}

export interface FeedbackEvent {
  /** '' when the request id was unknown */
  readonly route: string;
  readonly outcome: 'credited' | 'duplicate' | 'unknown';
}

/** One canary transition: the history event it added, with the route's two targets. */
export interface CanaryTransitionEvent {
  readonly route: string;
  readonly event: CanaryEventKind;
  readonly status: CanaryStatus;
  readonly step: number;
  readonly percent: number;
  readonly reason: string;
  /** ms since the epoch */
  readonly at: number;
  /** an admin API caller, or "canary" for the automatic analysis */
  readonly actor: string;
  readonly baseline: { readonly model: string; readonly version: string };
  readonly candidate: { readonly model: string; readonly version: string };
  /** the window the analysis judged (automatic advance, extend, promote, rollback), else null */
  readonly analysis: StepSummary | null;
  /** the gate that failed (automatic rollback) or extended the step, with its value and limit; else null */
  readonly gate: CanaryGate | null;
}

export interface ArmStats {
  /** `model:version` */
  readonly target: string;
  readonly pulls: number;
  readonly rewards: number;
  readonly rewardSum: number;
  /** null without rewards */
  readonly rewardMean: number | null;
}

export interface RouteStats {
  readonly route: string;
  readonly arms: readonly ArmStats[] | null;
  readonly canary: { readonly status: CanaryStatus; readonly step: number; readonly percent: number } | null;
}

export interface RouteStatsEvent {
  readonly routes: readonly RouteStats[];
}

export const requestChannel = diagnosticsChannel.channel(ROUTE_REQUEST_CHANNEL);
export const shadowChannel = diagnosticsChannel.channel(ROUTE_SHADOW_CHANNEL);
export const feedbackChannel = diagnosticsChannel.channel(ROUTE_FEEDBACK_CHANNEL);
export const canaryChannel = diagnosticsChannel.channel(ROUTE_CANARY_CHANNEL);
export const statsChannel = diagnosticsChannel.channel(ROUTE_STATS_CHANNEL);
