/**
 * The local mirror of every route: name → LiveRoute, plus what is derived from the whole
 * set (the request headers routes read, the canary timers). The router applies records to
 * it one at a time; `apply` ignores a record older than the one it has, so a late reply
 * never undoes a newer change.
 */
import { deepFreeze } from '../config/merge.js';
import type { Logger } from '../core/index.js';
import type { CanaryScheduler } from './canary/index.js';
import { LiveRoute, type LiveRouteDeps } from './live-route.js';
import type { RouteRecord } from './store/store.js';
import { TARGET_HEADER } from './target.js';

export class RouteTable {
  private readonly routes = new Map<string, LiveRoute>();
  private headerList: readonly string[] = Object.freeze([TARGET_HEADER]);

  constructor(
    private readonly deps: LiveRouteDeps,
    private readonly scheduler: CanaryScheduler,
    private readonly log: Logger,
  ) {}

  get(name: string): LiveRoute | undefined {
    return this.routes.get(name);
  }

  has(name: string): boolean {
    return this.routes.has(name);
  }

  names(): string[] {
    return [...this.routes.keys()];
  }

  values(): IterableIterator<LiveRoute> {
    return this.routes.values();
  }

  /** x-switchyard-target and every sticky header (lower case); a new frozen list after each change. */
  headers(): readonly string[] {
    return this.headerList;
  }

  /** Mirrors `record` unless the table already has it or a newer revision; the route now served. */
  apply(record: RouteRecord): LiveRoute | undefined {
    const previous = this.routes.get(record.name) ?? null;
    if (previous !== null && previous.record.revision >= record.revision) return previous;
    let route: LiveRoute;
    try {
      route = new LiveRoute(deepFreeze(record), this.deps, previous);
    } catch (e) {
      this.log.error('routing: a stored route cannot be served; it is left out', { route: record.name, err: e });
      return previous ?? undefined;
    }
    this.routes.set(record.name, route);
    this.scheduler.schedule(record.name, dueAt(route));
    this.updateHeaders();
    return route;
  }

  drop(name: string): void {
    if (!this.routes.delete(name)) return;
    this.scheduler.cancel(name);
    this.updateHeaders();
  }

  private updateHeaders(): void {
    const set = new Set<string>([TARGET_HEADER]);
    for (const route of this.routes.values()) if (route.stickyHeader !== null) set.add(route.stickyHeader);
    this.headerList = Object.freeze([...set]);
  }
}

/** When a progressing canary's current step is due for analysis (ms since the epoch), else null. */
export function dueAt(route: LiveRoute | undefined): number | null {
  if (route === undefined || route.spec.policy !== 'canary') return null;
  const state = route.record.canary;
  if (state === null || state.status !== 'progressing') return null;
  return state.stepStartedAt + route.spec.step_interval_s * 1000;
}
