/**
 * What a route decided for one request. Built by Router.pick (one allocation per request:
 * targets and shadow lists are shared, frozen objects) and handed back to Router.record
 * when the request is done. Every field is assigned in the constructor (one object shape).
 */
import type { RoutePolicyName } from '../config/route-schema.js';
import type { CounterHash } from './counters.js';
import type { Target } from './target.js';

/** What the gateway passes to Router.pick: the request id and its headers (lower-case names). */
export interface RouteRequest {
  readonly requestId: string;
  header(name: string): string | null;
}

export class Decision {
  readonly route: string;
  readonly policy: RoutePolicyName;
  /** the model version that serves the request */
  readonly target: Target;
  /** targets that get a mirrored copy (never awaited by the client); often the shared empty list */
  readonly shadows: readonly Target[];
  /** canary routes: the step index while progressing or paused; else null */
  readonly canaryStep: number | null;
  /** bandit routes: the arm (index into the route's targets); else null */
  readonly arm: number | null;
  /** the x-switchyard-target header chose the target */
  readonly pinned: boolean;
  readonly requestId: string;
  /** set by Router.record: whether the request succeeded (null until then) */
  ok: boolean | null;
  /** set by Router.record */
  latencyUs: number;
  /** @internal index of the target among the route's primary targets, -1 for a pinned target outside them */
  readonly slot: number;
  /** @internal the route's request counters when picked */
  readonly counts: CounterHash | null;
  /** @internal canary routes: the window of the step the request was picked in */
  readonly window: CounterHash | null;
  /** @internal the request was remembered for feedback */
  readonly remembered: boolean;

  constructor(
    route: string,
    policy: RoutePolicyName,
    target: Target,
    shadows: readonly Target[],
    canaryStep: number | null,
    arm: number | null,
    pinned: boolean,
    requestId: string,
    slot: number,
    counts: CounterHash | null,
    window: CounterHash | null,
    remembered: boolean,
  ) {
    this.route = route;
    this.policy = policy;
    this.target = target;
    this.shadows = shadows;
    this.canaryStep = canaryStep;
    this.arm = arm;
    this.pinned = pinned;
    this.requestId = requestId;
    this.ok = null;
    this.latencyUs = 0;
    this.slot = slot;
    this.counts = counts;
    this.window = window;
    this.remembered = remembered;
  }

  toJSON(): Record<string, unknown> {
    return {
      route: this.route,
      policy: this.policy,
      target: this.target,
      shadows: this.shadows,
      canary_step: this.canaryStep,
      arm: this.arm,
      pinned: this.pinned,
    };
  }
}
