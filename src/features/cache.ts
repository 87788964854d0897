import { LRUCache } from 'lru-cache';
import type { FeatureRow } from './row.js';

/** A millisecond clock (performance.now() by default; tests pass their own). */
export interface Clock {
  now(): number;
}

/**
 * The local cache of one view in front of the store: bounded (least recently used go
 * first) and with a lifetime per entry (the view's ttl_ms, shorter for a Feast value about
 * to turn stale). Rows standing in for failed reads are never cached.
 */
export class FeatureCache {
  private readonly lru: LRUCache<string, FeatureRow>;
  private readonly ttlMs: number;

  constructor(ttlMs: number, maxEntries: number, clock: Clock | null = null) {
    this.ttlMs = ttlMs;
    this.lru = new LRUCache<string, FeatureRow>({
      max: maxEntries,
      ttl: ttlMs,
      updateAgeOnGet: false,
      allowStale: false,
      // with an injected clock, read it on every check (no 1 ms memo of "now")
      ...(clock === null ? {} : { perf: clock, ttlResolution: 0 }),
    });
  }

  get(id: string): FeatureRow | undefined {
    return this.lru.get(id);
  }

  set(id: string, row: FeatureRow): void {
    if (!row.cacheable) return;
    const ttl = row.maxTtlMs < this.ttlMs ? Math.floor(row.maxTtlMs) : this.ttlMs;
    if (ttl < 1) return;
    this.lru.set(id, row, { ttl });
  }

  get size(): number {
    return this.lru.size;
  }
}
