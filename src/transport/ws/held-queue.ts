/** A received message not started yet. It owns `bytes` (a copy: uWS reuses its buffer). */
export class HeldFrame {
  readonly bytes: Uint8Array;
  readonly binary: boolean;
  /** performance.now() when it arrived, so that request latency includes the wait */
  readonly receivedAt: number;

  constructor(bytes: Uint8Array, binary: boolean, receivedAt: number) {
    this.bytes = bytes;
    this.binary = binary;
    this.receivedAt = receivedAt;
  }
}

/**
 * FIFO of a connection's held frames: a ring that grows by doubling (its length is bounded
 * by websocket.max_queued_per_connection, so it never grows past that), without
 * Array.shift()'s element moves.
 */
export class HeldQueue {
  private buf: (HeldFrame | null)[];
  private head: number;
  private size: number;

  constructor() {
    this.buf = new Array<HeldFrame | null>(8).fill(null);
    this.head = 0;
    this.size = 0;
  }

  get length(): number {
    return this.size;
  }

  push(f: HeldFrame): void {
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.head + this.size) % this.buf.length] = f;
    this.size++;
  }

  /** Removes and returns the oldest frame, or null when empty. */
  shift(): HeldFrame | null {
    if (this.size === 0) return null;
    const f = this.buf[this.head];
    this.buf[this.head] = null;
    this.head = (this.head + 1) % this.buf.length;
    this.size--;
    return f;
  }

  clear(): void {
    this.buf.fill(null);
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const old = this.buf;
    const next = new Array<HeldFrame | null>(old.length * 2).fill(null);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) % old.length];
    this.buf = next;
    this.head = 0;
  }
}
