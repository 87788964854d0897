import type { RequestRecord } from './record.js';

/**
 * A bounded FIFO of records on a preallocated array (no Array.shift(), no allocation per
 * push). push() refuses when full: the caller counts the record as dropped.
 */
export class RecordRing {
  readonly capacity: number;
  private readonly slots: (RequestRecord | null)[];
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`RecordRing: capacity must be an integer >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.slots = new Array<RequestRecord | null>(capacity).fill(null);
  }

  get size(): number {
    return this.count;
  }

  /** Appends `record`; false (and nothing changes) when the ring is full. */
  push(record: RequestRecord): boolean {
    if (this.count === this.capacity) return false;
    let tail = this.head + this.count;
    if (tail >= this.capacity) tail -= this.capacity;
    this.slots[tail] = record;
    this.count++;
    return true;
  }

  /** Removes and returns the oldest record, or null when empty. */
  shift(): RequestRecord | null {
    if (this.count === 0) return null;
    const record = this.slots[this.head];
    this.slots[this.head] = null;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.count--;
    return record;
  }

  /** Empties the ring; returns how many records it held. */
  clear(): number {
    const n = this.count;
    while (this.count > 0) this.shift();
    return n;
  }
}
