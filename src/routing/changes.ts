/**
 * Route changes as the router writes them: the new record (or null for a delete), the audit
 * entry's action, before and after, and the statistics the change makes meaningless.
 */
import { candidatePercent, type CanaryState } from './canary/index.js';
import { policyOf } from './policies/index.js';
import type { LiveRoute } from './live-route.js';
import type { CanarySpec, RouteSpec } from './spec.js';
import type { RouteRecord } from './store/store.js';

export interface Change {
  readonly record: Omit<RouteRecord, 'revision'> | null;
  readonly actor: string;
  readonly action: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly dropCounters: readonly string[];
}

export { newRunId } from './run-id.js';

/**
 * A route created or replaced with `spec`. A canary starts over, unless `state` (the
 * current one, for a PATCH) can be carried over to the new spec.
 */
export function specChange(name: string, current: LiveRoute | null, spec: RouteSpec, action: string, actor: string, state: CanaryState | null, now: number): Change {
  const canary = policyOf(spec).initialState(spec, current === null ? null : { spec: current.spec, state }, now, actor);
  return {
    record: { name, spec, canary, seed: current?.record.seed ?? null, updatedAt: now },
    actor,
    action,
    before: current?.spec ?? null,
    after: spec,
    dropCounters: current === null ? [] : policyOf(current.spec).dropCounters(name, current.spec, spec),
  };
}

/** A canary state as the audit log shows it. */
export function canarySummary(spec: CanarySpec, state: CanaryState): { state: string; step: number; percent: number } {
  return { state: state.status, step: state.step, percent: candidatePercent(spec, state) };
}
