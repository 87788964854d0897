import { LRUCache } from 'lru-cache';
import type { Prediction } from './prediction.js';
import type { PredictionStore } from './store.js';

class Entry {
  readonly prediction: Prediction;
  labelled: boolean;
  constructor(prediction: Prediction) {
    this.prediction = prediction;
    this.labelled = false;
  }
}

/** Predictions in an LRU of at most `max` entries, each forgotten `ttlS` seconds after it was made. */
export class MemoryPredictionStore implements PredictionStore {
  private readonly cache: LRUCache<string, Entry>;

  constructor(max: number, ttlS: number) {
    this.cache = new LRUCache<string, Entry>({ max, ttl: ttlS * 1000, updateAgeOnGet: false });
  }

  remember(id: string, prediction: Prediction): void {
    this.cache.set(id, new Entry(prediction));
  }

  get(id: string): Promise<Prediction | null> {
    return Promise.resolve(this.cache.get(id)?.prediction ?? null);
  }

  markLabelled(id: string): Promise<boolean> {
    const entry = this.cache.get(id);
    if (entry === undefined || entry.labelled) return Promise.resolve(false);
    entry.labelled = true;
    return Promise.resolve(true);
  }

  get size(): number {
    return this.cache.size;
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}
