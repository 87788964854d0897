/**
 * Route changes as the router writes them: the new record (or null for a delete), the audit
 * entry's action, before and after, and the statistics the change makes meaningless.
 */
import { randomUUID } from 'node:crypto';
import { armsKey } from './bandit/arms.js';
import { candidatePercent, carryCanaryState, startCanary, type CanaryState } from './canary/index.js';
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

/** A new id for a canary run (part of its windows' keys). */
export function newRunId(): string {
  return randomUUID().slice(0, 8);
}

/**
 * A route created or replaced with `spec`. A canary starts over, unless `state` (the
 * current one, for a PATCH) can be carried over to the new spec.
 */
export function specChange(name: string, current: LiveRoute | null, spec: RouteSpec, action: string, actor: string, state: CanaryState | null, now: number): Change {
  let canary: CanaryState | null = null;
  if (spec.policy === 'canary') {
    canary =
      state !== null && current !== null && current.spec.policy === 'canary'
        ? carryCanaryState(current.spec, spec, state, now, actor, newRunId())
        : startCanary(spec, now, actor, newRunId());
  }
  return {
    record: { name, spec, canary, seed: current?.record.seed ?? null, updatedAt: now },
    actor,
    action,
    before: current?.spec ?? null,
    after: spec,
    dropCounters: staleCounters(name, current?.spec ?? null, spec),
  };
}

/** A canary state as the audit log shows it. */
export function canarySummary(spec: CanarySpec, state: CanaryState): { state: string; step: number; percent: number } {
  return { state: state.status, step: state.step, percent: candidatePercent(spec, state) };
}

/** Counter hashes whose meaning a spec change ends: a bandit's statistics when it stops being one or changes its kind of reward. */
function staleCounters(name: string, before: RouteSpec | null, after: RouteSpec): string[] {
  if (before?.policy === 'bandit' && (after.policy !== 'bandit' || after.reward !== before.reward)) return [armsKey(name)];
  return [];
}
