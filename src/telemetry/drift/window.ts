/**
 * The most recent values of one column: a ring on a preallocated Float64Array, O(1) per
 * value, no allocation after construction.
 */
export class ColumnWindow {
  private readonly values: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.values.length;
  }

  /** Values held (at most capacity). */
  get count(): number {
    return this.filled;
  }

  get full(): boolean {
    return this.filled === this.values.length;
  }

  /** Adds a value, overwriting the oldest when full. Non-finite values are ignored. */
  push(v: number): void {
    if (!Number.isFinite(v)) return;
    this.values[this.next] = v;
    this.next = this.next + 1 === this.values.length ? 0 : this.next + 1;
    if (this.filled < this.values.length) this.filled++;
  }

  /** A sorted copy of the values held (for the statistics; allocates). */
  sorted(): Float64Array {
    return this.values.slice(0, this.filled).sort();
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }
}
