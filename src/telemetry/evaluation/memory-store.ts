import { Prediction, type PredictionKind } from './prediction.js';
import type { PredictionStore } from './store.js';

/** The model, version and kind of a prediction, interned: slots hold its index. */
interface Target {
  readonly model: string;
  readonly version: string;
  readonly kind: PredictionKind;
}

const INITIAL_SLOTS = 1024;

/**
 * cyrb53 (bryc, public domain): a 53-bit hash of a string, exact in a double. Ids are kept
 * as this hash, not as strings: two ids with the same hash (about one pair in 10^11 among
 * 100,000 remembered) would share an entry.
 */
export function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Smallest power of two ≥ 2n: the hash table's size for a ring of n slots. */
function tableSize(n: number): number {
  let size = 16;
  while (size < 2 * n) size *= 2;
  return size;
}

/**
 * Predictions waiting for their labels: at most `max`, each forgotten `ttlS` seconds after it
 * was made. Every entry lives equally long and is never refreshed, so arrival order is also
 * expiry order: entries sit in a FIFO ring, and remembering appends and drops from the ring's
 * front (the oldest, or the expired), O(1). This runs once per request on the event loop.
 *
 * Nothing of an entry is a heap object: the ring is columns of typed arrays (id hash, expiry,
 * target, the one-row value, labelled) and the index from id to slot is an open-addressing
 * hash table (linear probing, deletion by backward shift) in an Int32Array. An entry lives
 * for seconds at full load (100,000 entries at tens of thousands of requests per second):
 * objects that live that long survive the young generation and die in the old one, and the
 * garbage collector's share of the main thread grew with them. Measured with CPU profiles of
 * the REST bench at concurrency 256: lru-cache took ~4% of the main thread; a Map walked from
 * its front (V8 keeps deleted entries as holes there until it rehashes) over 20%; a Map
 * beside a ring of entry objects still cost ~7% of req/s, mostly in the collector.
 */
export class MemoryPredictionStore implements PredictionStore {
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly targets: Target[] = [];
  private readonly targetIndex = new Map<string, number>();
  /** the target of the last prediction remembered, the usual one */
  private lastTarget: Target | null = null;
  private lastTargetIndex = -1;
  /** predictions of more than one row, by slot */
  private rows = new Map<number, readonly number[]>();
  // the ring: `count` entries from slot `head` on, wrapping at `capacity`
  private capacity: number;
  private keys: Float64Array;
  private expiresAt: Float64Array;
  private target: Int32Array;
  private value: Float64Array;
  private labelled: Uint8Array;
  private head = 0;
  private count = 0;
  // the index: per cell, slot + 1 (0 = empty) and the key's low 32 bits, so that probing
  // past other keys reads only the table; `mask` = cells − 1
  private table: Int32Array;
  private mask: number;
  private entries = 0;

  constructor(max: number, ttlS: number, now: () => number = Date.now) {
    this.max = max;
    this.ttlMs = ttlS * 1000;
    this.now = now;
    this.capacity = Math.min(max, INITIAL_SLOTS);
    this.keys = new Float64Array(this.capacity);
    this.expiresAt = new Float64Array(this.capacity);
    this.target = new Int32Array(this.capacity);
    this.value = new Float64Array(this.capacity);
    this.labelled = new Uint8Array(this.capacity);
    this.table = new Int32Array(2 * tableSize(this.capacity));
    this.mask = this.table.length / 2 - 1;
  }

  remember(id: string, prediction: Prediction): void {
    const now = this.now();
    this.evict(now);
    if (this.count === this.capacity) this.grow();
    const slot = (this.head + this.count) % this.capacity;
    this.count++;
    const key = hash53(id);
    this.keys[slot] = key;
    this.expiresAt[slot] = now + this.ttlMs;
    this.target[slot] = this.intern(prediction);
    this.labelled[slot] = 0;
    const values = prediction.values;
    if (values.length === 1) this.value[slot] = values[0];
    else this.rows.set(slot, values);
    // a replaced id keeps its old slot until that reaches the front; the index points here now
    const cell = this.find(key);
    if (cell >= 0) this.table[2 * cell] = slot + 1;
    else this.insert(key, slot + 1);
  }

  get(id: string): Promise<Prediction | null> {
    const slot = this.live(id);
    if (slot < 0) return Promise.resolve(null);
    const t = this.targets[this.target[slot]];
    return Promise.resolve(new Prediction(t.model, t.version, t.kind, this.rows.get(slot) ?? [this.value[slot]]));
  }

  markLabelled(id: string): Promise<boolean> {
    const slot = this.live(id);
    if (slot < 0 || this.labelled[slot] === 1) return Promise.resolve(false);
    this.labelled[slot] = 1;
    return Promise.resolve(true);
  }

  /** Ids remembered and not yet dropped (an expired one counts until it is looked up or leaves the ring). */
  get size(): number {
    return this.entries;
  }

  async close(): Promise<void> {
    this.table.fill(0);
    this.entries = 0;
    this.rows.clear();
    this.head = 0;
    this.count = 0;
  }

  private intern(p: Prediction): number {
    const last = this.lastTarget;
    if (last !== null && last.model === p.model && last.version === p.version && last.kind === p.kind) return this.lastTargetIndex;
    const key = `${p.kind}\u0000${p.model}\u0000${p.version}`;
    let i = this.targetIndex.get(key);
    if (i === undefined) {
      i = this.targets.length;
      this.targets.push({ model: p.model, version: p.version, kind: p.kind });
      this.targetIndex.set(key, i);
    }
    this.lastTarget = this.targets[i];
    this.lastTargetIndex = i;
    return i;
  }

  /** The table cell holding `key`, or -1. */
  private find(key: number): number {
    const table = this.table;
    const mask = this.mask;
    const lo = key | 0;
    for (let i = key & mask; ; i = (i + 1) & mask) {
      const v = table[2 * i];
      if (v === 0) return -1;
      if (table[2 * i + 1] === lo && this.keys[v - 1] === key) return i;
    }
  }

  private insert(key: number, value: number): void {
    const table = this.table;
    const mask = this.mask;
    let i = key & mask;
    while (table[2 * i] !== 0) i = (i + 1) & mask;
    table[2 * i] = value;
    table[2 * i + 1] = key | 0;
    this.entries++;
  }

  /** Empties cell `i`, moving later cells of its probe run back so that every key stays reachable. */
  private remove(i: number): void {
    const table = this.table;
    const mask = this.mask;
    table[2 * i] = 0;
    this.entries--;
    for (let j = (i + 1) & mask; table[2 * j] !== 0; j = (j + 1) & mask) {
      const home = table[2 * j + 1] & mask;
      // the entry at j may move to the hole at i unless its home lies cyclically in (i, j]
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      table[2 * i] = table[2 * j];
      table[2 * i + 1] = table[2 * j + 1];
      table[2 * j] = 0;
      i = j;
    }
  }

  /** The slot of `id` when it is remembered and not expired, else -1. */
  private live(id: string): number {
    const cell = this.find(hash53(id));
    if (cell < 0) return -1;
    const slot = this.table[2 * cell] - 1;
    if (this.expiresAt[slot] <= this.now()) {
      this.remove(cell);
      return -1;
    }
    return slot;
  }

  /** Drops entries from the front while the ring is full (max) or they have expired. */
  private evict(now: number): void {
    while (this.count > 0 && (this.count >= this.max || this.expiresAt[this.head] <= now)) {
      const slot = this.head;
      const cell = this.find(this.keys[slot]);
      // a replaced entry is no longer in the index: leave its successor alone
      if (cell >= 0 && this.table[2 * cell] === slot + 1) this.remove(cell);
      if (this.rows.size > 0) this.rows.delete(slot);
      this.head = (slot + 1) % this.capacity;
      this.count--;
    }
  }

  /** Doubles the ring (up to max) and rebuilds the index, keeping the entries' order. */
  private grow(): void {
    const capacity = Math.min(this.max, this.capacity * 2);
    const keys = new Float64Array(capacity);
    const expiresAt = new Float64Array(capacity);
    const target = new Int32Array(capacity);
    const value = new Float64Array(capacity);
    const labelled = new Uint8Array(capacity);
    const rows = new Map<number, readonly number[]>();
    const indexed: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % this.capacity;
      keys[i] = this.keys[from];
      expiresAt[i] = this.expiresAt[from];
      target[i] = this.target[from];
      value[i] = this.value[from];
      labelled[i] = this.labelled[from];
      const r = this.rows.get(from);
      if (r !== undefined) rows.set(i, r);
      const cell = this.find(this.keys[from]);
      if (cell >= 0 && this.table[2 * cell] === from + 1) indexed.push(i);
    }
    this.capacity = capacity;
    this.keys = keys;
    this.expiresAt = expiresAt;
    this.target = target;
    this.value = value;
    this.labelled = labelled;
    this.rows = rows;
    this.head = 0;
    this.table = new Int32Array(2 * tableSize(capacity));
    this.mask = this.table.length / 2 - 1;
    this.entries = 0;
    for (const i of indexed) this.insert(keys[i], i + 1);
  }
}
