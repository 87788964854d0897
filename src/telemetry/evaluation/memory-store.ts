import { FixedQueue } from '../../batching/index.js';
import type { Prediction } from './prediction.js';
import type { PredictionStore } from './store.js';

class Entry {
  readonly id: string;
  readonly prediction: Prediction;
  /** performance.now()-style ms after which it is forgotten */
  readonly expiresAt: number;
  labelled: boolean;
  constructor(id: string, prediction: Prediction, expiresAt: number) {
    this.id = id;
    this.prediction = prediction;
    this.expiresAt = expiresAt;
    this.labelled = false;
  }
}

/**
 * Predictions waiting for their labels: at most `max`, each forgotten `ttlS` seconds after it
 * was made. Every entry lives equally long and is never refreshed, so arrival order is also
 * expiry order: entries sit in a FIFO ring beside the id → entry Map, and remembering appends
 * and drops from the ring's front (the oldest, or the expired), O(1). This runs once per
 * request on the event loop. Measured in a CPU profile of the REST bench at concurrency 256:
 * lru-cache took ~4% of the main thread, and walking the Map from its front (V8 keeps
 * deleted entries as holes there until it rehashes) over 20%; the ring costs neither.
 */
export class MemoryPredictionStore implements PredictionStore {
  private readonly entries = new Map<string, Entry>();
  /** every remembered entry in arrival order (a replaced one stays until it reaches the front) */
  private readonly order = new FixedQueue<Entry>(1024);
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(max: number, ttlS: number, now: () => number = Date.now) {
    this.max = max;
    this.ttlMs = ttlS * 1000;
    this.now = now;
  }

  remember(id: string, prediction: Prediction): void {
    const now = this.now();
    const e = new Entry(id, prediction, now + this.ttlMs);
    this.entries.set(id, e);
    this.order.push(e);
    this.evict(now);
  }

  get(id: string): Promise<Prediction | null> {
    return Promise.resolve(this.live(id)?.prediction ?? null);
  }

  markLabelled(id: string): Promise<boolean> {
    const entry = this.live(id);
    if (entry === null || entry.labelled) return Promise.resolve(false);
    entry.labelled = true;
    return Promise.resolve(true);
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.order.clear();
  }

  private live(id: string): Entry | null {
    const e = this.entries.get(id);
    if (e === undefined) return null;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(id);
      return null;
    }
    return e;
  }

  /** Drops entries from the front while there are too many or they have expired. */
  private evict(now: number): void {
    const order = this.order;
    for (let front = order.peek(); front !== undefined; front = order.peek()) {
      if (order.length <= this.max && front.expiresAt > now) return;
      order.shift();
      // a replaced entry is no longer the Map's: leave its successor alone
      if (this.entries.get(front.id) === front) this.entries.delete(front.id);
    }
  }
}
