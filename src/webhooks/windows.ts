/**
 * The windowed statistics behind the threshold events, and the episodes that make one
 * event per crossing rather than one per label or shadow copy.
 *
 * RowWindow: per model version, the most recent labelled rows (at least `size`; a label
 * carries one or more rows and is kept or evicted whole), with their count correct.
 * FlagWindow: per route and shadow target, the last `size` compared copies as a ring of
 * flags (disagreed or not) with a running count.
 * Episodes: per key, whether the value is past the threshold; reports the moment it
 * crosses in (an event) and resets when it crosses back (no event: the next crossing in
 * is a new episode).
 */
import { FixedQueue } from '../core/index.js';

export class RowWindow {
  private readonly labels = new FixedQueue<readonly [rows: number, correct: number]>();
  private rowsIn = 0;
  private correctIn = 0;
  constructor(private readonly size: number) {}

  add(rows: number, correct: number): void {
    this.labels.push([rows, correct]);
    this.rowsIn += rows;
    this.correctIn += correct;
    // evict the oldest labels while the window stays at least `size` rows without them
    for (let head = this.labels.peek(); head !== undefined && this.rowsIn - head[0] >= this.size; head = this.labels.peek()) {
      this.labels.shift();
      this.rowsIn -= head[0];
      this.correctIn -= head[1];
    }
  }

  get rows(): number {
    return this.rowsIn;
  }

  get correct(): number {
    return this.correctIn;
  }

  /** correct / rows, or null without rows */
  get accuracy(): number | null {
    return this.rowsIn > 0 ? this.correctIn / this.rowsIn : null;
  }
}

export class FlagWindow {
  private readonly flags: Uint8Array;
  private next = 0;
  private filled = 0;
  private set = 0;
  constructor(size: number) {
    this.flags = new Uint8Array(size);
  }

  add(flag: boolean): void {
    const i = this.next;
    if (this.filled === this.flags.length) this.set -= this.flags[i];
    else this.filled++;
    this.flags[i] = flag ? 1 : 0;
    this.set += this.flags[i];
    this.next = (i + 1) % this.flags.length;
  }

  /** flags in the window */
  get count(): number {
    return this.filled;
  }

  /** flags set in the window */
  get flagged(): number {
    return this.set;
  }

  get fraction(): number | null {
    return this.filled > 0 ? this.set / this.filled : null;
  }
}

/** Which side of the threshold is an episode: `below` (accuracy) or `above` (disagreement). */
export type Direction = 'below' | 'above';

export class Episodes {
  private readonly inside = new Set<string>();
  constructor(
    readonly threshold: number,
    private readonly direction: Direction,
  ) {}

  /** True exactly when `value` crosses into the episode for `key` (judged values only; null = not enough data). */
  update(key: string, value: number | null): boolean {
    if (value === null) return false;
    const past = this.direction === 'below' ? value < this.threshold : value > this.threshold;
    if (!past) {
      this.inside.delete(key);
      return false;
    }
    if (this.inside.has(key)) return false;
    this.inside.add(key);
    return true;
  }
}
