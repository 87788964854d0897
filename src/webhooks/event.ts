/**
 * The JSON a webhook receives: one event per POST.
 *
 *   { "id": "<uuid>", "type": "canary.rolled_back", "time": "<ISO 8601>",
 *     "server": "<server_name>", "payload": { ... } }
 *
 * `id` names the event, not the attempt: every retry of it carries the same id, so a
 * receiver deduplicates on it. The payload of each type is declared below.
 */
import { randomUUID } from 'node:crypto';
import type { WebhookEventType } from '../config/index.js';
import type { CanaryGate, CanaryStatus } from '../routing/index.js';

export interface WebhookEvent<T extends WebhookEventType = WebhookEventType> {
  readonly id: string;
  readonly type: T;
  /** when the gateway saw what the event reports */
  readonly time: string;
  /** the config's server_name: which gateway (fleet) sent it */
  readonly server: string;
  readonly payload: PayloadOf<T>;
}

interface TargetRef {
  readonly model: string;
  readonly version: string;
}

interface SideWindow {
  readonly requests: number;
  readonly errors: number;
  readonly error_rate: number;
  readonly p99_ms: number | null;
  readonly rewards: number;
  readonly reward_mean: number | null;
}

/** canary.step, canary.promoted, canary.rolled_back: one canary transition. */
export interface CanaryPayload {
  readonly route: string;
  /** the history event: advance, promote or rollback */
  readonly transition: 'advance' | 'promote' | 'rollback';
  readonly status: CanaryStatus;
  /** the step index and the candidate's traffic percent after the transition */
  readonly step: number;
  readonly percent: number;
  readonly reason: string;
  /** "canary" (the automatic analysis) or the admin API caller */
  readonly actor: string;
  readonly baseline: TargetRef;
  readonly candidate: TargetRef;
  /** the step window the analysis judged (automatic transitions), else null */
  readonly analysis: { readonly baseline: SideWindow; readonly candidate: SideWindow } | null;
  /** rollback by the analysis: the gate that failed, its measured value and configured limit; else null */
  readonly gate: CanaryGate | null;
}

/** drift.detected: a column of a model version started drifting (one event per episode). */
export interface DriftPayload {
  readonly model: string;
  readonly version: string;
  readonly column: string;
  readonly psi: number;
  readonly ks: number;
  readonly psi_threshold: number;
  readonly ks_threshold: number;
  readonly window: number;
}

/** accuracy.below_threshold: a model version's windowed online accuracy fell below the threshold (once per episode). */
export interface AccuracyPayload {
  readonly model: string;
  readonly version: string;
  readonly accuracy: number;
  readonly threshold: number;
  /** labelled rows the accuracy is computed on (the most recent, up to accuracy_window) */
  readonly rows: number;
  readonly correct: number;
}

/** shadow.disagreement_above_threshold: a route's shadow target disagrees with the primary too often (once per episode). */
export interface ShadowPayload {
  readonly route: string;
  /** `model:version` of the shadow target */
  readonly target: string;
  /** fraction of the compared copies in the window that disagreed */
  readonly disagreement: number;
  readonly threshold: number;
  readonly compared: number;
  readonly disagreed: number;
}

export interface PayloadByType {
  'canary.step': CanaryPayload;
  'canary.promoted': CanaryPayload;
  'canary.rolled_back': CanaryPayload;
  'drift.detected': DriftPayload;
  'accuracy.below_threshold': AccuracyPayload;
  'shadow.disagreement_above_threshold': ShadowPayload;
}
export type PayloadOf<T extends WebhookEventType> = PayloadByType[T];

export function newEvent<T extends WebhookEventType>(type: T, payload: PayloadOf<T>, server: string, at: number = Date.now()): WebhookEvent<T> {
  return { id: randomUUID(), type, time: new Date(at).toISOString(), server, payload };
}
