import { setImmediate as tick } from 'node:timers/promises';
import { MemoryRouteStore, Router, seededRandom, type Catalog, type Clock, type RouteRequest, type RouteStore } from '../../src/routing/index.js';
import { silentLogger } from '../../src/core/index.js';

/** The example repository's models as routing sees them. */
export const MODELS: Readonly<Record<string, readonly string[]>> = { tabular: ['1', '2'], heavy: ['1'], dtypes: ['1'] };

export function catalogOf(models: Readonly<Record<string, readonly string[]>> = MODELS): Catalog {
  return {
    has: (model, version) => models[model]?.includes(version) ?? false,
    versions: (model) => models[model] ?? [],
  };
}

/** A clock that only moves when told; advance() runs the timers that fall due, in order. */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  cancel(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward by `ms`, running each timer due on the way (and what it awaits). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.timers) if (entry[1].at <= end && (next === null || entry[1].at < next[1].at)) next = entry;
      if (next === null) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise chains (memory store calls) run to the end. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await tick();
}

/** A request with an id and headers (names lower case). */
export function request(requestId: string, headers: Record<string, string> = {}): RouteRequest {
  return { requestId, header: (name) => headers[name] ?? null };
}

export const NO_HEADERS = request('');

export interface TestRouter {
  router: Router;
  clock: ManualClock;
  store: RouteStore;
}

/** A router over a memory store, seeded randomness and a manual clock. */
export async function memoryRouter(
  routes: Record<string, unknown> = {},
  opts: { seed?: number; feedbackTtlS?: number; clock?: ManualClock; models?: Record<string, readonly string[]> } = {},
): Promise<TestRouter> {
  const clock = opts.clock ?? new ManualClock();
  const store = new MemoryRouteStore({ clock, feedbackTtlS: opts.feedbackTtlS });
  const router = await Router.create({ routes, store, catalog: catalogOf(opts.models), log: silentLogger, clock, random: seededRandom(opts.seed ?? 1) });
  return { router, clock, store };
}

/** Polls `check` until it holds (or fails after `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Pearson's chi-square statistic of observed counts against expected shares. */
export function chiSquare(observed: readonly number[], shares: readonly number[]): number {
  const total = observed.reduce((a, b) => a + b, 0);
  return observed.reduce((sum, o, i) => {
    const e = total * shares[i];
    return sum + (o - e) ** 2 / e;
  }, 0);
}
