/**
 * Router: the face of routing the gateway calls.
 *
 *   pick(route, request) → Decision     per request; synchronous, from the local mirror
 *   record(decision, outcome)           per request, when it is done
 *   recordShadow(decision, target, …)   per shadow copy
 *   feedback(requestId, reward)         POST /v2/feedback
 *   list / get / put / patch / remove / action / audit    the admin API
 *
 * Every route lives in the store; this replica mirrors all of them (LiveRoute) and answers
 * requests from the mirror only. Changes made here are written to the store (compare-and-set
 * on the route's revision, with their audit entry) and then applied to the mirror; changes
 * made by other replicas arrive through the store's notifications. Mirror updates and
 * writes run one at a time (a promise queue), so a reload never undoes a newer write.
 *
 * Canary steps are decided by whichever replica takes the store's lock when a step is due;
 * windows and bandit statistics are counter hashes that a shared store sums over replicas
 * and the file store keeps across restarts (synced every `syncIntervalMs`).
 */
import type { Tensor } from '../core/tensor.js';
import { GatewayError } from '../core/errors.js';
import type { Logger } from '../core/index.js';
import { armsKey } from './bandit/arms.js';
import { checkReward } from './bandit/index.js';
import { CanaryScheduler, type CanaryAction } from './canary/index.js';
import type { Catalog } from './catalog.js';
import { specChange, type Change } from './changes.js';
import { systemClock, type Clock } from './clock.js';
import type { Decision, RouteRequest } from './decision.js';
import { feedbackChannel, requestChannel, shadowChannel, statsChannel, type RouteStats } from './diagnostics.js';
import { badReward, conflict, invalidRoute, routeNotFound, StaleRouteError } from './errors.js';
import { CanaryDriver } from './canary/driver.js';
import { countsKey, LiveRoute } from './live-route.js';
import { CounterSync } from './store/counter-sync.js';
import { patchRouteSpec } from './patch.js';
import type { Random } from './random.js';
import { RouteTable } from './route-table.js';
import { compareOutputs, type ShadowComparison } from './shadow/index.js';
import type { RouteSpec } from './spec.js';
import type { AuditEntry, RouteStore } from './store/store.js';
import type { Target } from './target.js';
import { checkRouteSpec, parseRouteSpec } from './validate.js';
import { routeView, type RouteView } from './views.js';

export interface RouterOptions {
  /** the `routes:` section of the server config (checked here against the served models) */
  readonly routes?: Readonly<Record<string, unknown>>;
  readonly store: RouteStore;
  readonly catalog: Catalog;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  /** close() closes the store too (default true) */
  readonly ownsStore?: boolean;
  /** with a store that keeps counters (countersInStore): ms between two syncs of the counters (default 250) */
  readonly syncIntervalMs?: number;
  /** ms between two route statistics events for the metrics (default 1000) */
  readonly statsIntervalMs?: number;
}

export type FeedbackOutcome = 'credited' | 'duplicate' | 'unknown';
export type RouteAction = CanaryAction;
export const ROUTE_ACTIONS: readonly RouteAction[] = Object.freeze(['pause', 'resume', 'promote', 'rollback']);

/** What happened to one shadow copy (the gateway reports each one). */
export type ShadowOutcome =
  | { readonly kind: 'dropped' }
  | { readonly kind: 'failed' }
  | { readonly kind: 'compared'; readonly primary: readonly Tensor[]; readonly shadow: readonly Tensor[] };

/** The actor of changes made from the config file. */
export const CONFIG_ACTOR = 'config';
/** The audit actor of routes a replica wrote back into a store that had lost them. */
export const REPUBLISH_ACTOR = 'switchyard:republish';

const MAX_ATTEMPTS = 3;
const MAX_REQUEST_ID = 256;

/** What the admin API (REST /admin/routes, the CLI through it) may do to routes. */
export type RouteAdmin = Pick<Router, 'list' | 'get' | 'put' | 'patch' | 'remove' | 'action' | 'audit'>;

export class Router {
  private readonly store: RouteStore;
  private readonly catalog: Catalog;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly ownsStore: boolean;
  private readonly syncIntervalMs: number;
  private readonly statsIntervalMs: number;
  private readonly routes: RouteTable;
  private readonly scheduler: CanaryScheduler;
  private readonly canary: CanaryDriver;
  private readonly counters: CounterSync;
  private queue: Promise<unknown> = Promise.resolve();
  private syncTimer: unknown = null;
  private statsTimer: unknown = null;
  private closed = false;
  /** routes this replica wrote back into a store that had lost them (see republish) */
  private republished = 0;

  /** How many routes this replica has written back into a store that had lost them. */
  get republishedRoutes(): number {
    return this.republished;
  }

  private constructor(opts: RouterOptions) {
    this.store = opts.store;
    this.catalog = opts.catalog;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.ownsStore = opts.ownsStore ?? true;
    this.syncIntervalMs = opts.syncIntervalMs ?? 250;
    this.statsIntervalMs = opts.statsIntervalMs ?? 1000;
    this.counters = new CounterSync(this.store);
    // the scheduler calls the driver only once a step falls due, after the constructor
    this.scheduler = new CanaryScheduler(this.clock, (name) => this.canary.onDue(name));
    this.routes = new RouteTable({ random: this.random, store: this.store, catalog: this.catalog }, this.scheduler, this.log);
    this.canary = new CanaryDriver({
      store: this.store,
      routes: this.routes,
      scheduler: this.scheduler,
      clock: this.clock,
      log: this.log,
      serial: (fn) => this.serial(fn),
      refresh: (name) => this.refresh(name),
      sync: (hash, ttlS) => this.counters.sync(hash, ttlS),
      closed: () => this.closed,
    });
  }

  /**
   * Loads the routes from the store, then creates or updates the config file's routes: a
   * config route is written when the store does not have it, or when the file's spec
   * differs from the one it was last created from (otherwise changes made through the admin
   * API since are kept). Throws a GatewayError (SY_ERR_BAD_REQUEST) naming the route when a
   * config route is invalid, before anything is written.
   */
  static async create(opts: RouterOptions): Promise<Router> {
    const router = new Router(opts);
    try {
      const specs = Object.entries(opts.routes ?? {}).map(([name, raw]) => [name, parseRouteSpec(name, raw, opts.catalog)] as const);
      router.store.watch({ changed: (name) => router.onStoreChange(name) });
      await router.serial(async () => {
        for (const record of await router.store.load()) router.routes.apply(record);
        for (const [name, spec] of specs) await router.seed(name, spec);
      });
      if (router.store.countersInStore) {
        await router.counters.syncAll(router.routes.values());
        router.every(router.syncIntervalMs, () => router.counters.syncAll(router.routes.values()), (t) => (router.syncTimer = t));
      }
      router.every(router.statsIntervalMs, async () => router.publishStats(), (t) => (router.statsTimer = t));
    } catch (e) {
      await router.close();
      throw e;
    }
    return router;
  }

  // ---- requests ------------------------------------------------------------------------

  has(name: string): boolean {
    return this.routes.has(name);
  }

  /** Every request header a route reads (lower case): x-switchyard-target and the sticky headers. Changes when routes change. */
  headerNames(): readonly string[] {
    return this.routes.headers();
  }

  /**
   * The target (and shadows) of one request to route `name`. Synchronous: no store round
   * trip. Throws SY_ERR_NOT_FOUND for an unknown route, SY_ERR_MODEL_NOT_FOUND when the
   * x-switchyard-target header names a model or version that is not served.
   */
  pick(name: string, req: RouteRequest): Decision {
    const route = this.routes.get(name);
    if (route === undefined) throw routeNotFound(name);
    return route.pick(req);
  }

  /** Counts a finished request: per target, in the canary window; a failed request gets no feedback. */
  record(decision: Decision, outcome: { readonly ok: boolean; readonly latencyUs: number }): void {
    decision.ok = outcome.ok;
    decision.latencyUs = outcome.latencyUs;
    LiveRoute.record(decision, outcome.ok, outcome.latencyUs);
    if (!outcome.ok && decision.remembered) this.store.forget(decision.requestId);
    if (requestChannel.hasSubscribers) requestChannel.publish(decision);
  }

  /** Reports one shadow copy; for a compared one, compares the outputs (and returns the comparison). */
  recordShadow(decision: Decision, target: Target, outcome: ShadowOutcome): ShadowComparison | null {
    const comparison = outcome.kind === 'compared' ? compareOutputs(outcome.primary, outcome.shadow) : null;
    if (shadowChannel.hasSubscribers) {
      shadowChannel.publish({
        route: decision.route,
        target: target.key,
        outcome: outcome.kind,
        agree: comparison === null ? null : comparison.agree,
        maxAbsDiff: comparison === null ? null : comparison.maxAbsDiff,
        mismatch: comparison !== null && comparison.mismatch !== null,
      });
    }
    return comparison;
  }

  /**
   * Credits `reward` to the arm (bandit) or canary side that served request `requestId`,
   * once. 'duplicate': it was credited before; 'unknown': no such request awaits feedback
   * (never served by a bandit or canary route, failed, or expired) — the API answers 404.
   * Throws SY_ERR_BAD_REQUEST for a bad id or reward (a bernoulli route takes 0 or 1),
   * SY_ERR_STORE_UNAVAILABLE when the shared store cannot be reached.
   */
  async feedback(requestId: unknown, reward: unknown): Promise<FeedbackOutcome> {
    if (typeof requestId !== 'string' || requestId === '' || requestId.length > MAX_REQUEST_ID) {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `invalid feedback id: expected the request id (a non-empty string of at most ${MAX_REQUEST_ID} characters) from the response's "id" or x-request-id`);
    }
    const value = checkReward(reward);
    const result = await this.store.credit(requestId, value);
    let route = '';
    switch (result.outcome) {
      case 'invalid':
        throw badReward(`route "${result.record.route}" takes bernoulli rewards: 0 or 1, got ${value}`);
      case 'credited': {
        const { record } = result;
        route = record.route;
        const hash = this.routes.get(record.route)?.hashByKey(record.hash) ?? null;
        if (hash !== null) {
          hash.addShared(`${record.prefix}n`, 1);
          hash.addShared(`${record.prefix}sum`, value);
          hash.addShared(`${record.prefix}sumsq`, value * value);
        }
        break;
      }
      case 'duplicate':
        route = result.route;
        break;
      case 'unknown':
        break;
    }
    if (feedbackChannel.hasSubscribers) feedbackChannel.publish({ route, outcome: result.outcome });
    return result.outcome;
  }

  // ---- admin -----------------------------------------------------------------------------

  list(): RouteView[] {
    return [...this.routes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(routeView);
  }

  /** The route's spec and live state; SY_ERR_NOT_FOUND when there is none. */
  get(name: string): RouteView {
    const route = this.routes.get(name);
    if (route === undefined) throw routeNotFound(name);
    return routeView(route);
  }

  /**
   * Creates or replaces a route (a canary starts over). SY_ERR_BAD_REQUEST with every problem when the spec is invalid; nothing changes then.
   * `expected` (every admin change takes it: the API's If-Match): the revision the caller saw, 0 = the route must not exist;
   * when the route is at another one, nothing changes and a StaleRouteError (409) carries its current state. null: whatever is there.
   */
  async put(name: string, raw: unknown, actor: string, expected: number | null = null): Promise<RouteView> {
    return this.mutateRoute(name, expected, (current) => {
      const spec = parseRouteSpec(name, raw, this.catalog);
      return specChange(name, current, spec, current === null ? 'create' : 'replace', actor, null, this.clock.now());
    });
  }

  /** Changes part of a route: a JSON merge patch of its spec, or `{ weights: { "<model>:<version>": w } }`. */
  async patch(name: string, partial: unknown, actor: string, expected: number | null = null): Promise<RouteView> {
    return this.mutateRoute(name, expected, (current) => {
      if (current === null) throw routeNotFound(name);
      const patched = patchRouteSpec(current.spec, partial);
      if ('problems' in patched) throw invalidRoute(name, patched.problems);
      const spec = checkRouteSpec(name, patched.spec, this.catalog);
      if (spec instanceof Error) throw spec;
      return specChange(name, current, spec, 'patch', actor, current.record.canary, this.clock.now());
    });
  }

  /** Deletes a route with its statistics. */
  async remove(name: string, actor: string, expected: number | null = null): Promise<void> {
    await this.mutate(name, expected, (current) => {
      if (current === null) throw routeNotFound(name);
      return { record: null, actor, action: 'delete', before: current.spec, after: null, dropCounters: [countsKey(name), armsKey(name)] };
    });
  }

  /** pause | resume | promote | rollback a canary route (SY_ERR_CONFLICT when the canary's state does not allow it). */
  async action(name: string, action: RouteAction, actor: string, expected: number | null = null): Promise<RouteView> {
    if (!ROUTE_ACTIONS.includes(action)) {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `unknown route action ${JSON.stringify(String(action)).slice(0, 40)}; expected one of ${ROUTE_ACTIONS.join(', ')}`);
    }
    return this.mutateRoute(name, expected, (current) => this.canary.actionChange(name, current, action, actor, () => routeNotFound(name)));
  }

  /** The latest audit entries, newest first (from the store: every replica's). */
  async audit(limit = 100): Promise<AuditEntry[]> {
    return this.store.audit(Math.max(0, Math.min(limit, 1000)));
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Stops the timers, syncs the counters a last time (countersInStore), closes the store when owned. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.close();
    if (this.syncTimer !== null) this.clock.cancel(this.syncTimer);
    if (this.statsTimer !== null) this.clock.cancel(this.statsTimer);
    await this.queue.catch(() => undefined);
    if (this.store.countersInStore) await this.counters.syncAll(this.routes.values()).catch(() => undefined);
    this.publishStats();
    if (this.ownsStore) await this.store.close();
  }

  /** Publishes the arms and canary state of every route for the metrics (also done every statsIntervalMs). */
  publishStats(): void {
    if (!statsChannel.hasSubscribers) return;
    const routes: RouteStats[] = [];
    for (const route of this.routes.values()) {
      const arms = route.arms;
      routes.push({
        route: route.name,
        arms:
          arms === null
            ? null
            : route.targets.map((t, i) => ({ target: t.key, pulls: arms.pulls(i), rewards: arms.rewards(i), rewardSum: arms.sum(i), rewardMean: arms.mean(i) })),
        canary: CanaryDriver.stats(route),
      });
    }
    statsChannel.publish({ routes });
  }

  // ---- mirror ----------------------------------------------------------------------------------

  /** Runs `fn` after everything queued before it (mirror updates and writes never interleave). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private every(ms: number, fn: () => Promise<void>, keep: (handle: unknown) => void): void {
    const tick = (): void => {
      if (this.closed) return;
      fn()
        .catch((e: unknown) => this.log.warn('routing: background task failed', { err: e }))
        .finally(() => {
          if (!this.closed) keep(this.clock.setTimer(tick, ms));
        });
    };
    keep(this.clock.setTimer(tick, ms));
  }

  private onStoreChange(name: string | null): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return this.serial(() => (name === null ? this.reloadAll() : this.refresh(name))).then(
      () => true,
      (e: unknown) => {
        this.log.warn('routing: could not read a route change from the store', { route: name, err: e });
        return false;
      },
    );
  }

  private async reloadAll(): Promise<void> {
    const records = await this.store.load();
    if (records.length === 0 && this.routes.names().length > 0 && (await this.store.wiped())) {
      await this.republish();
      return;
    }
    const names = new Set(records.map((r) => r.name));
    for (const record of records) this.routes.apply(record);
    for (const name of this.routes.names()) if (!names.has(name)) this.routes.drop(name);
  }

  /**
   * The store lost its data (Redis restarted empty) while this replica holds routes: rather
   * than forget them (every request to them would be a 404), write them back as they are here,
   * each only where no other replica has done it first, and say so loudly.
   */
  private async republish(): Promise<void> {
    const names = this.routes.names();
    let written = 0;
    for (const name of names) {
      const live = this.routes.get(name);
      if (live === undefined) continue;
      const now = this.clock.now();
      const record = { ...live.record, updatedAt: now };
      const audit: AuditEntry = { at: new Date(now).toISOString(), actor: REPUBLISH_ACTOR, route: name, action: 'republish', before: null, after: live.spec };
      const revision = await this.store.write({ name, expectedRevision: 0, record, audit, dropCounters: [] });
      if (revision !== null) written++;
    }
    this.republished += written;
    this.log.error('routing: the route store had lost every route (Redis restarted without its data?); published again the routes this replica holds', {
      routes: names,
      written,
      by_other_replicas: names.length - written,
    });
    // other replicas' copies, where they were first, are the ones to serve
    const records = await this.store.load();
    for (const record of records) this.routes.apply(record);
  }

  private async refresh(name: string): Promise<void> {
    const record = await this.store.loadOne(name);
    if (record === null) this.routes.drop(name);
    else this.routes.apply(record);
  }

  /**
   * Computes a change from the route as it is now and writes it, compare-and-set on the
   * route's revision; when another replica changed the route meanwhile, reads it again and
   * recomputes (up to 3 times). `compute` throws to reject (nothing is written). With
   * `expected` (not null), a route at any other revision (0: any route at all) is not changed:
   * StaleRouteError with the route as it is, also when another replica changed it meanwhile.
   */
  private mutate(name: string, expected: number | null, compute: (current: LiveRoute | null) => Change): Promise<RouteView | null> {
    return this.serial(async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (this.store.shared) await this.refresh(name);
        const current = this.routes.get(name) ?? null;
        if (expected !== null && (current?.record.revision ?? 0) !== expected) throw new StaleRouteError(name, expected, current === null ? null : routeView(current));
        const change = compute(current);
        const view = await this.write(name, current, change);
        if (view !== undefined) return view;
      }
      throw conflict(`route "${name}" kept changing on other replicas; try again`);
    });
  }

  /** As mutate, for changes that leave a route. */
  private async mutateRoute(name: string, expected: number | null, compute: (current: LiveRoute | null) => Change): Promise<RouteView> {
    const view = await this.mutate(name, expected, compute);
    if (view === null) throw new GatewayError('SY_ERR_INTERNAL', `route "${name}" was written but cannot be served; the server log has the details`);
    return view;
  }

  /** Writes one change; the new view (null for a delete), or undefined on a revision conflict. */
  private async write(name: string, current: LiveRoute | null, change: Change): Promise<RouteView | null | undefined> {
    const now = this.clock.now();
    const audit: AuditEntry = { at: new Date(now).toISOString(), actor: change.actor, route: name, action: change.action, before: change.before, after: change.after };
    const revision = await this.store.write({
      name,
      expectedRevision: current?.record.revision ?? 0,
      record: change.record,
      audit,
      dropCounters: change.dropCounters,
    });
    if (revision === null) return undefined;
    if (change.record === null) {
      this.routes.drop(name);
      return null;
    }
    const route = this.routes.apply({ ...change.record, revision });
    this.canary.announce(name, change.record.spec, current?.record.canary ?? null, change.record.canary);
    return route === undefined ? null : routeView(route);
  }

  private async seed(name: string, spec: RouteSpec): Promise<void> {
    const seed = JSON.stringify(spec);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = this.routes.get(name) ?? null;
      if (current !== null && current.record.seed === seed) return;
      const change = specChange(name, current, spec, current === null ? 'create' : 'replace', CONFIG_ACTOR, null, this.clock.now());
      const record = change.record === null ? null : { ...change.record, seed };
      const written = await this.write(name, current, { ...change, record });
      if (written !== undefined) {
        this.log.info(current === null ? 'route created from the config' : 'route updated from the config (its spec in the file changed)', { route: name });
        return;
      }
      await this.refresh(name);
    }
    throw conflict(`route "${name}" from the config kept changing on other replicas while starting`);
  }
}
