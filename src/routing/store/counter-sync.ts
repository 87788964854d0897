/**
 * Counter sync with a shared store: each route's counter hashes (request and error counts,
 * bandit arms, canary windows) keep what this replica added since the last sync as pending
 * deltas; a sync sends them and takes the sum over every replica back. A failed sync keeps
 * the deltas for the next one, so nothing counted is lost to a Redis outage.
 */
import type { CounterHash } from '../counters.js';
import type { LiveRoute } from '../live-route.js';
import type { RouteStore } from './store.js';

export class CounterSync {
  private syncing = false;

  constructor(private readonly store: RouteStore) {}

  /** Syncs every hash of `routes`; a sync already running makes this one a no-op. */
  async syncAll(routes: Iterable<LiveRoute>): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      const jobs: Promise<void>[] = [];
      for (const route of routes) for (const { hash, ttlS } of route.hashes()) jobs.push(this.sync(hash, ttlS));
      await Promise.all(jobs);
    } finally {
      this.syncing = false;
    }
  }

  /** Syncs one hash (`ttlS`: how long the store keeps it, null = until the route goes). */
  async sync(hash: CounterHash, ttlS: number | null): Promise<void> {
    const deltas = hash.takePending();
    try {
      hash.setShared(await this.store.syncCounters(hash.key, deltas, ttlS));
    } catch {
      hash.restorePending(deltas);
    }
  }
}
