/** One timer per canary route: when its current step is due for analysis (or a retry). */
import type { Clock } from '../clock.js';

export class CanaryScheduler {
  private readonly timers = new Map<string, unknown>();

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (route: string) => void,
  ) {}

  /** (Re)schedules `route` at `dueAt` (ms since the epoch); null cancels it. */
  schedule(route: string, dueAt: number | null): void {
    this.cancel(route);
    if (dueAt === null) return;
    const handle = this.clock.setTimer(() => {
      if (this.timers.get(route) !== handle) return;
      this.timers.delete(route);
      this.onDue(route);
    }, Math.max(0, dueAt - this.clock.now()));
    this.timers.set(route, handle);
  }

  cancel(route: string): void {
    const handle = this.timers.get(route);
    if (handle === undefined) return;
    this.clock.cancel(handle);
    this.timers.delete(route);
  }

  close(): void {
    for (const handle of this.timers.values()) this.clock.cancel(handle);
    this.timers.clear();
  }
}
