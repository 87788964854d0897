/**
 * A FIFO ring buffer that doubles its capacity when full (never shrinks). O(1) push and
 * shift without Array.shift()'s element moves, plus indexed reads from the head so that a
 * batcher can look past the head without removing anything. (As undici's and piscina's
 * fixed-queue; one buffer here instead of a linked list of buffers, because the batcher
 * needs `at(i)`.)
 */
export class FixedQueue<T> {
  private buf: (T | undefined)[];
  private mask: number;
  private head: number;
  private size: number;

  /** `capacity` is rounded up to a power of two. */
  constructor(capacity = 16) {
    let cap = 2;
    while (cap < capacity) cap *= 2;
    this.buf = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    this.head = 0;
    this.size = 0;
  }

  get length(): number {
    return this.size;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  push(item: T): void {
    if (this.size === this.mask + 1) this.grow();
    this.buf[(this.head + this.size) & this.mask] = item;
    this.size++;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    return item;
  }

  /** The oldest item, or undefined when empty. */
  peek(): T | undefined {
    return this.size === 0 ? undefined : this.buf[this.head];
  }

  /** The i-th item from the head (0 = oldest); undefined when out of range. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.size) return undefined;
    return this.buf[(this.head + i) & this.mask];
  }

  /** Keeps only the items for which `keep` is true, in order; returns how many were dropped. */
  retain(keep: (item: T) => boolean): number {
    let w = 0;
    const n = this.size;
    for (let r = 0; r < n; r++) {
      const item = this.buf[(this.head + r) & this.mask] as T;
      if (keep(item)) {
        this.buf[(this.head + w) & this.mask] = item;
        w++;
      }
    }
    for (let i = w; i < n; i++) this.buf[(this.head + i) & this.mask] = undefined;
    this.size = w;
    return n - w;
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const old = this.buf;
    const cap = old.length;
    const next = new Array<T | undefined>(cap * 2).fill(undefined);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & this.mask];
    this.buf = next;
    this.mask = cap * 2 - 1;
    this.head = 0;
  }
}
