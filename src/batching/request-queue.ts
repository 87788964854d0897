import { FixedQueue } from '../core/index.js';
import { DISPATCHED, DROPPED, QUEUED, type Pending } from './pending.js';

/** Dead entries a level may hold before it is compacted (and at least as many as live ones). */
const COMPACT_MIN_DEAD = 64;

/**
 * The queue shared by every scheduler: one FIFO ring buffer per priority level (level 0 is
 * the highest). Counters change at once when an entry leaves; the entry itself is removed
 * lazily (when it reaches the front of its level, or when dead entries outnumber live ones),
 * so leaving from the middle — a cancel, a timeout, a request batched past a mismatched
 * head — costs O(1).
 */
export class RequestQueue {
  private readonly levels: FixedQueue<Pending>[];
  private readonly liveByLevel: Int32Array;
  private liveCount: number;
  private liveItems: number;

  constructor(levels: number) {
    this.levels = [];
    for (let i = 0; i < levels; i++) this.levels.push(new FixedQueue<Pending>(16));
    this.liveByLevel = new Int32Array(levels);
    this.liveCount = 0;
    this.liveItems = 0;
  }

  /** live (queued) requests */
  get count(): number {
    return this.liveCount;
  }

  /** dim-0 rows of the live requests */
  get items(): number {
    return this.liveItems;
  }

  get levelCount(): number {
    return this.levels.length;
  }

  /** The ring of one level, live and dead entries mixed (check `state === QUEUED`). */
  level(l: number): FixedQueue<Pending> {
    return this.levels[l];
  }

  push(p: Pending): void {
    this.levels[p.level].push(p);
    this.liveByLevel[p.level]++;
    this.liveCount++;
    this.liveItems += p.items;
  }

  /** Marks a queued entry dispatched. */
  take(p: Pending): void {
    this.leave(p, DISPATCHED);
  }

  /** Marks a queued entry dropped (cancelled, timed out, drained). */
  drop(p: Pending): void {
    this.leave(p, DROPPED);
  }

  /** The first live entry in priority order (highest level first, then FIFO), or undefined. */
  first(): Pending | undefined {
    if (this.liveCount === 0) return undefined;
    for (let l = 0; l < this.levels.length; l++) {
      if (this.liveByLevel[l] === 0) continue;
      return this.front(l);
    }
    return undefined;
  }

  /** The live entry that has waited longest, whatever its level, or undefined. */
  oldest(): Pending | undefined {
    if (this.liveCount === 0) return undefined;
    let best: Pending | undefined;
    for (let l = 0; l < this.levels.length; l++) {
      if (this.liveByLevel[l] === 0) continue;
      const p = this.front(l);
      if (best === undefined || p.enqueuedAt < best.enqueuedAt) best = p;
    }
    return best;
  }

  /** Removes every live entry, calling `fn` on each in priority order, and empties the queue. */
  removeAll(fn: (p: Pending) => void): void {
    for (let l = 0; l < this.levels.length; l++) {
      const q = this.levels[l];
      for (let p = q.shift(); p !== undefined; p = q.shift()) {
        if (p.state !== QUEUED) continue;
        p.state = DROPPED;
        fn(p);
      }
      this.liveByLevel[l] = 0;
    }
    this.liveCount = 0;
    this.liveItems = 0;
  }

  /** The live front of a level known to hold live entries; drops dead entries before it. */
  private front(l: number): Pending {
    const q = this.levels[l];
    let p = q.peek() as Pending;
    while (p.state !== QUEUED) {
      q.shift();
      p = q.peek() as Pending;
    }
    return p;
  }

  private leave(p: Pending, state: typeof DISPATCHED | typeof DROPPED): void {
    if (p.state !== QUEUED) return;
    p.state = state;
    const live = --this.liveByLevel[p.level];
    this.liveCount--;
    this.liveItems -= p.items;
    const q = this.levels[p.level];
    const dead = q.length - live;
    if (dead > COMPACT_MIN_DEAD && dead > live) q.retain(isQueued);
  }
}

function isQueued(p: Pending): boolean {
  return p.state === QUEUED;
}
