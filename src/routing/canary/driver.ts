/**
 * The canary driver: when a progressing canary's step is due, whichever replica takes the
 * store's lock analyses the step's window (synced over replicas first) and writes the
 * outcome (advance, extend, promote, rollback) with its audit entry; the admin actions
 * (pause, resume, promote, rollback) are changes computed here. Every transition a replica
 * makes is published on the canary channel.
 */
import { GatewayError } from '../../core/errors.js';
import type { Logger } from '../../core/index.js';
import type { Change } from '../changes.js';
import { canarySummary } from '../changes.js';
import type { Clock } from '../clock.js';
import type { CounterHash } from '../counters.js';
import { canaryChannel, type CanaryTransitionEvent } from '../diagnostics.js';
import { conflict } from '../errors.js';
import type { LiveRoute } from '../live-route.js';
import type { RouteTable } from '../route-table.js';
import { dueAt } from '../route-table.js';
import type { CanarySpec, RouteSpec } from '../spec.js';
import type { RouteStore } from '../store/store.js';
import { analyseStep, summarise } from './analysis.js';
import type { CanaryScheduler } from './scheduler.js';
import { CANARY_ACTOR, actionProblem, afterAction, afterAnalysis, candidatePercent, type CanaryAction, type CanaryState } from './state.js';
import { sideStats } from './window.js';

const LOCK_MS = 10_000;
const LOCK_RETRY_MS = 1000;
/** Canary windows are kept in a shared store this long (seconds). */
export const WINDOW_TTL_S = 7 * 86400;

export interface CanaryDriverDeps {
  readonly store: RouteStore;
  readonly routes: RouteTable;
  readonly clock: Clock;
  readonly log: Logger;
  readonly scheduler: CanaryScheduler;
  /** runs `fn` in the router's queue (after every mirror update and write before it) */
  readonly serial: (fn: () => Promise<void>) => Promise<void>;
  /** reads route `name` from the store into the mirror */
  readonly refresh: (name: string) => Promise<void>;
  /** syncs one counter hash with a shared store */
  readonly sync: (hash: CounterHash, ttlS: number | null) => Promise<void>;
  readonly closed: () => boolean;
}

export class CanaryDriver {
  constructor(private readonly deps: CanaryDriverDeps) {}

  /** A canary's step fell due (the scheduler calls this): decide it, or retry shortly. */
  onDue(name: string): void {
    const d = this.deps;
    if (d.closed()) return;
    d.serial(() => this.decideStep(name)).catch((e: unknown) => {
      d.log.warn('routing: canary analysis failed; retrying', { route: name, err: e });
      if (!d.closed()) d.scheduler.schedule(name, d.clock.now() + LOCK_RETRY_MS);
    });
  }

  /** The change an admin action makes to canary route `current` (throws when it does not apply). */
  actionChange(name: string, current: LiveRoute | null, action: CanaryAction, actor: string, notFound: () => Error): Change {
    if (current === null) throw notFound();
    const spec = current.spec;
    const state = current.record.canary;
    if (spec.policy !== 'canary' || state === null) {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `route "${name}" uses policy ${spec.policy}; ${action} applies to canary routes`);
    }
    const problem = actionProblem(state, action);
    if (problem !== null) throw conflict(`route "${name}": ${problem}`);
    const now = this.deps.clock.now();
    const next = afterAction(spec, state, action, now, actor);
    return {
      record: { ...current.record, canary: next, updatedAt: now },
      actor,
      action,
      before: canarySummary(spec, state),
      after: canarySummary(spec, next),
      dropCounters: [],
    };
  }

  /** Publishes the transition from `before` to `after` of route `spec` (on the replica that made it; each transition adds one history event). */
  announce(name: string, spec: RouteSpec, before: CanaryState | null, after: CanaryState | null): void {
    if (after === null || after === before || after.history.length === 0 || spec.policy !== 'canary' || !canaryChannel.hasSubscribers) return;
    const e = after.history[after.history.length - 1];
    const message: CanaryTransitionEvent = {
      route: name,
      event: e.event,
      status: after.status,
      step: e.step,
      percent: e.percent,
      reason: e.reason,
      at: e.at,
      actor: e.actor,
      baseline: { model: spec.baseline.model, version: spec.baseline.version },
      candidate: { model: spec.candidate.model, version: spec.candidate.version },
      analysis: e.analysis,
      gate: e.gate ?? null,
    };
    canaryChannel.publish(message);
  }

  /** What the route statistics event says of a canary route, or null for other policies. */
  static stats(route: LiveRoute): { status: CanaryState['status']; step: number; percent: number } | null {
    const state = route.record.canary;
    return route.spec.policy === 'canary' && state !== null ? { status: state.status, step: state.step, percent: candidatePercent(route.spec, state) } : null;
  }

  /** Analyses the due step of canary `name` if this replica gets the lock, and writes the outcome. */
  private async decideStep(name: string): Promise<void> {
    const d = this.deps;
    const before = d.routes.get(name);
    const due = dueAt(before);
    if (before === undefined || due === null) return;
    if (d.clock.now() < due) {
      d.scheduler.schedule(name, due);
      return;
    }
    const token = await d.store.tryLock(`canary:${name}`, LOCK_MS);
    if (token === null) {
      d.scheduler.schedule(name, d.clock.now() + LOCK_RETRY_MS);
      return;
    }
    try {
      if (d.store.shared) {
        await d.refresh(name);
        if (d.routes.get(name) !== before) return; // another replica decided (the new state is scheduled)
        if (before.window !== null) await d.sync(before.window, WINDOW_TTL_S);
      }
      const spec = before.spec as CanarySpec;
      const state = before.record.canary as CanaryState;
      const window = before.window as CounterHash;
      const b = sideStats(window, 'baseline');
      const c = sideStats(window, 'candidate');
      const verdict = analyseStep(b, c, spec.analysis);
      const now = d.clock.now();
      const next = afterAnalysis(spec, state, verdict, { baseline: summarise(b), candidate: summarise(c) }, now);
      const event = next.history[next.history.length - 1];
      const revision = await d.store.write({
        name,
        expectedRevision: before.record.revision,
        record: { ...before.record, canary: next, updatedAt: now },
        audit:
          verdict.kind === 'extend'
            ? null
            : { at: new Date(now).toISOString(), actor: CANARY_ACTOR, route: name, action: `canary:${event.event}`, before: canarySummary(spec, state), after: canarySummary(spec, next) },
        dropCounters: [],
      });
      if (revision === null) {
        await d.refresh(name);
        return;
      }
      d.routes.apply({ ...before.record, canary: next, updatedAt: now, revision });
      this.announce(name, spec, state, next);
      const level = event.event === 'rollback' ? 'warn' : 'info';
      d.log[level](`canary ${event.event}`, { route: name, step: next.step, percent: event.percent, reason: event.reason });
    } finally {
      await d.store.unlock(`canary:${name}`, token).catch(() => undefined);
    }
  }
}
