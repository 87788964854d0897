/**
 * One route as this replica serves it, built from its stored record: targets, policy,
 * shadow selector and counters. A change of the record (spec, canary state) builds a new
 * LiveRoute that takes over the counters of the old one (the same objects when their fields
 * did not change, so requests in flight still count), and `pick` never sees a route half
 * updated.
 */
import { GatewayError, modelNotFound } from '../core/errors.js';
import type { ArmTable } from './bandit/index.js';
import { recordInWindow } from './canary/window.js';
import type { Catalog } from './catalog.js';
import { CounterHash } from './counters.js';
import { Decision, type RouteRequest } from './decision.js';
import { BASELINE, policyOf, type Policy } from './policies/index.js';
import type { Random } from './random.js';
import { NO_SHADOWS, ShadowSelector } from './shadow/index.js';
import { primaryTargets, type RouteSpec } from './spec.js';
import type { CreditRecord, RouteRecord, RouteStore } from './store/store.js';
import { parseTargetHeader, Target, TARGET_HEADER } from './target.js';

export interface LiveRouteDeps {
  readonly random: Random;
  readonly store: RouteStore;
  readonly catalog: Catalog;
}

/** Pin header values remembered per route with their target (beyond it, a pin is looked up per request). */
const MAX_PINNED = 64;

export function countsKey(route: string): string {
  return `counts:${route}`;
}

export class LiveRoute {
  readonly name: string;
  readonly record: RouteRecord;
  readonly spec: RouteSpec;
  readonly targets: readonly Target[];
  readonly stickyHeader: string | null;
  /** per target: `<target>|req`, `<target>|err` */
  readonly counts: CounterHash;
  readonly arms: ArmTable | null;
  /** canary routes: the window of the current step */
  readonly window: CounterHash | null;
  private readonly policy: Policy;
  private readonly shadows: ShadowSelector | null;
  /** per target: what its requests are remembered as for feedback (bandit, canary), else null */
  private readonly credits: readonly CreditRecord[] | null;
  private readonly canaryStep: number | null;
  private readonly pinned = new Map<string, Target>();
  private readonly deps: LiveRouteDeps;

  constructor(record: RouteRecord, deps: LiveRouteDeps, previous: LiveRoute | null) {
    const spec = record.spec;
    this.name = record.name;
    this.record = record;
    this.spec = spec;
    this.deps = deps;
    this.targets = Object.freeze(primaryTargets(spec).map((t) => new Target(t.model, t.version)));
    this.counts = CounterHash.successor(
      previous?.counts ?? null,
      countsKey(this.name),
      this.targets.flatMap((t) => [`${t.key}|req`, `${t.key}|err`]),
    );
    const live = policyOf(spec).build({ name: this.name, record, spec, targets: this.targets, random: deps.random, previous });
    this.policy = live.picker;
    this.stickyHeader = live.stickyHeader;
    this.arms = live.arms;
    this.window = live.window;
    this.credits = live.credits;
    this.canaryStep = live.canaryStep;
    this.shadows =
      spec.shadow.length === 0
        ? null
        : new ShadowSelector(
            spec.shadow,
            spec.shadow.map((s) => new Target(s.model, s.version)),
            deps.random,
          );
  }

  /** The counter hashes the store syncs, with the TTL of each (null: kept until the route is deleted). */
  hashes(): readonly { hash: CounterHash; ttlS: number | null }[] {
    const out: { hash: CounterHash; ttlS: number | null }[] = [{ hash: this.counts, ttlS: null }];
    if (this.arms !== null) out.push({ hash: this.arms.hash, ttlS: null });
    if (this.window !== null) out.push({ hash: this.window, ttlS: 7 * 86400 });
    return out;
  }

  /** The counter hash named `key`, if this route has it. */
  hashByKey(key: string): CounterHash | null {
    for (const { hash } of this.hashes()) if (hash.key === key) return hash;
    return null;
  }

  /** Chooses the target of one request (synchronous: no I/O besides a fire-and-forget feedback record). */
  pick(req: RouteRequest): Decision {
    if (this.spec.allow_pinning) {
      const pin = req.header(TARGET_HEADER);
      if (pin !== null) return this.pickPinned(pin, req.requestId);
    }
    const key = this.stickyHeader === null ? null : req.header(this.stickyHeader);
    const slot = this.policy.pick(key);
    const target = this.targets[slot];
    const shadows = this.shadows === null ? NO_SHADOWS : this.shadows.pick(target);
    const remember = this.credits !== null && req.requestId !== '';
    if (remember) this.deps.store.remember(req.requestId, this.credits[slot]);
    return new Decision(
      this.name,
      this.spec.policy,
      target,
      shadows,
      this.canaryStep,
      this.arms === null ? null : slot,
      false,
      req.requestId,
      slot,
      this.counts,
      this.canaryStep === null ? null : this.window,
      remember,
    );
  }

  private pickPinned(value: string, requestId: string): Decision {
    const target = this.pinnedTarget(value);
    const slot = this.targets.findIndex((t) => t.key === target.key);
    return new Decision(this.name, this.spec.policy, target, NO_SHADOWS, null, null, true, requestId, slot, this.counts, null, false);
  }

  /**
   * The target a pin header names: `model:version`, or `model` (the route's version of it).
   * Only the route's own targets (primary, or shadow) can be pinned: a pin is for testing a
   * route's versions, and letting it name any served model would let any client reach a model
   * the route was meant to keep it away from. Anything else is a 400 listing the targets.
   */
  private pinnedTarget(value: string): Target {
    const known = this.pinned.get(value);
    if (known !== undefined && this.deps.catalog.has(known.model, known.version)) return known;
    const parsed = parseTargetHeader(value);
    const allowed = [...this.targets, ...(this.spec.shadow ?? []).map((s) => new Target(s.model, s.version))];
    const target = parsed === null ? undefined : allowed.find((t) => t.model === parsed.model && (parsed.version === null || t.version === parsed.version));
    if (target === undefined) {
      const keys = [...new Set(allowed.map((t) => t.key))].join(', ');
      throw new GatewayError(
        'SY_ERR_BAD_REQUEST',
        `${TARGET_HEADER} ${JSON.stringify(value.slice(0, 130))} is not a target of route "${this.name}"; pin one of its targets (${keys}) as <model>:<version>`,
      );
    }
    if (!this.deps.catalog.has(target.model, target.version)) throw modelNotFound(target.model, target.version);
    if (this.pinned.size < MAX_PINNED) this.pinned.set(value, target);
    return target;
  }

  /** Counts a finished request (hot path). */
  static record(decision: Decision, ok: boolean, latencyUs: number): void {
    const counts = decision.counts;
    if (counts !== null && decision.slot >= 0) {
      counts.add(decision.slot * 2, 1);
      if (!ok) counts.add(decision.slot * 2 + 1, 1);
    }
    if (decision.window !== null) recordInWindow(decision.window, decision.slot === BASELINE ? 'baseline' : 'candidate', ok, latencyUs);
  }
}
