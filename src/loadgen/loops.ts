/**
 * The two ways a phase sends load through a driver:
 *
 * - ClosedLoop (fixed concurrency): N slots, each sends its next request when the previous
 *   one is answered, until the window closes. Latency is answer − send.
 * - OpenLoop (fixed arrival rate R): request i is due at t0 + i/R whatever the server does.
 *   It is sent then if a slot is free, else as soon as one frees up. A request that waited
 *   for a free slot has its latency measured from its due time, so queueing a slow server
 *   causes is not hidden by the generator waiting for it (coordinated omission). A request
 *   the generator's own timer sent late (timers fire on Node's 1 ms grid, later when this
 *   process is busy; due requests go out together on each tick) is measured from when it was
 *   sent: that lateness is the generator's, not the server's (charged to the server, it
 *   added 1 ms to a 0.7 ms p50 at 1000 req/s on 2 cores, where perf_analyzer measured the
 *   same server at 0.4–0.6 ms: bench/perf-analyzer.ts). How late each send was is recorded
 *   either way (`lateness`).
 *
 * Both count a request unanswered after `timeoutMs` as `timeout` (its slot stays taken
 * until the answer comes: the request is still on the wire), take answers to requests sent
 * in the window until every one is in or timed out, and never wait longer than
 * window + timeout: what is still out then counts as `timeout`, and open-loop requests that
 * were due but never found a free slot count as `not sent`.
 */
import { performance } from 'node:perf_hooks';
import type { Driver, Sink } from './drivers/index.js';
import { Recorder } from './recorder.js';

export interface PhaseResult {
  readonly recorder: Recorder;
  /** the window in seconds (req/s divides by it) */
  readonly seconds: number;
}

const FREE = 0;
const BUSY = 1;
/** timed out (counted) but not answered yet */
const EXPIRED = 2;

let nextPhaseId = 1;

abstract class Phase implements Sink {
  readonly id = nextPhaseId++;
  readonly slots: number;
  readonly recorder = new Recorder();
  protected readonly driver: Driver;
  protected readonly timeoutMs: number;
  protected readonly durationMs: number;
  protected readonly intended: Float64Array;
  protected readonly state: Uint8Array;
  /** slots whose request is out and not timed out */
  protected busy = 0;
  protected start = 0;
  protected end = 0;
  private finished = false;
  private sending = false;
  private resolveRun: ((r: PhaseResult) => void) | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;

  constructor(driver: Driver, slots: number, durationMs: number, timeoutMs: number) {
    this.driver = driver;
    this.slots = slots;
    this.durationMs = durationMs;
    this.timeoutMs = timeoutMs;
    this.intended = new Float64Array(slots);
    this.state = new Uint8Array(slots);
  }

  /** ms since the window opened */
  elapsedMs(): number {
    return this.start === 0 ? 0 : performance.now() - this.start;
  }

  done(slot: number, error: string | null, detail: string | null): void {
    if (this.finished || this.state[slot] === FREE) return;
    if (this.sending) {
      // a driver answered from inside send(): take it on the next turn, never recurse
      setImmediate(() => this.done(slot, error, detail));
      return;
    }
    const now = performance.now();
    if (this.state[slot] === BUSY) {
      this.busy--;
      if (error === null) this.recorder.success(now - this.intended[slot], now <= this.end);
      else this.recorder.failure(error, detail);
    }
    this.state[slot] = FREE;
    this.answered(slot, now);
  }

  /** A slot's answer is in (or its timed-out request finally answered): the slot is free. */
  protected abstract answered(slot: number, now: number): void;

  /** True when the phase has nothing more to send. */
  protected abstract drained(now: number): boolean;

  protected sendSlot(slot: number, intendedAt: number): void {
    this.intended[slot] = intendedAt;
    this.state[slot] = BUSY;
    this.busy++;
    this.recorder.requests++;
    this.sending = true;
    try {
      this.driver.send(this, slot);
    } finally {
      this.sending = false;
    }
  }

  protected begin(): Promise<PhaseResult> {
    this.start = performance.now();
    this.end = this.start + this.durationMs;
    this.expiryTimer = setInterval(() => this.expire(), Math.max(10, Math.min(250, this.timeoutMs / 4)));
    this.deadlineTimer = setTimeout(() => this.giveUp(), this.durationMs + this.timeoutMs);
    return new Promise((resolve) => {
      this.resolveRun = resolve;
    });
  }

  protected maybeFinish(now: number): void {
    if (this.busy === 0 && this.drained(now)) this.finish();
  }

  private expire(): void {
    const now = performance.now();
    const limit = now - this.timeoutMs;
    for (let s = 0; s < this.slots; s++) {
      if (this.state[s] !== BUSY || this.intended[s] > limit) continue;
      this.state[s] = EXPIRED;
      this.busy--;
      this.recorder.failure('timeout', `no answer within ${this.timeoutMs} ms`);
    }
    this.maybeFinish(now);
  }

  /** The window plus one timeout is over: what is still out times out. */
  protected giveUp(): void {
    for (let s = 0; s < this.slots; s++) {
      if (this.state[s] !== BUSY) continue;
      this.state[s] = EXPIRED;
      this.recorder.failure('timeout', `no answer within ${this.timeoutMs} ms`);
    }
    this.busy = 0;
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer);
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.stopSending();
    this.resolveRun?.({ recorder: this.recorder, seconds: this.durationMs / 1000 });
  }

  protected stopSending(): void {}
}

/** N requests in flight for `durationMs`. */
export class ClosedLoop extends Phase {
  constructor(driver: Driver, concurrency: number, durationMs: number, timeoutMs: number) {
    super(driver, concurrency, durationMs, timeoutMs);
  }

  run(): Promise<PhaseResult> {
    const p = this.begin();
    for (let s = 0; s < this.slots; s++) this.sendSlot(s, performance.now());
    return p;
  }

  protected answered(slot: number, now: number): void {
    if (now < this.end) this.sendSlot(slot, now);
    else this.maybeFinish(now);
  }

  protected drained(now: number): boolean {
    return now >= this.end;
  }
}

/** `rate` requests per second due for `durationMs`, at most `maxInflight` out at once. */
export class OpenLoop extends Phase {
  private readonly total: number;
  private readonly intervalMs: number;
  private next = 0;
  private readonly free: Int32Array;
  private freeTop: number;
  private timer: NodeJS.Timeout | null = null;
  /** every slot was taken when requests were due: the next answer sends */
  private starved = false;

  constructor(driver: Driver, rate: number, durationMs: number, maxInflight: number, timeoutMs: number) {
    super(driver, maxInflight, durationMs, timeoutMs);
    this.total = Math.max(1, Math.round((rate * durationMs) / 1000));
    this.intervalMs = 1000 / rate;
    this.free = new Int32Array(maxInflight);
    for (let i = 0; i < maxInflight; i++) this.free[i] = maxInflight - 1 - i;
    this.freeTop = maxInflight;
  }

  run(): Promise<PhaseResult> {
    const p = this.begin();
    this.tick(false);
    return p;
  }

  /**
   * Sends every request due by now while slots are free. `afterStarving`: called because a
   * slot freed up while due requests waited for one — those waited on the server, and their
   * latency counts from their due time; on a timer tick it counts from now.
   */
  private tick(afterStarving: boolean): void {
    this.timer = null;
    this.starved = false;
    const now = performance.now();
    const due = Math.min(this.total, Math.floor((now - this.start) / this.intervalMs) + 1);
    while (this.next < due && this.freeTop > 0) {
      const slot = this.free[--this.freeTop];
      const at = this.start + this.next * this.intervalMs;
      this.recorder.late(now - at);
      this.next++;
      this.sendSlot(slot, afterStarving ? at : now);
    }
    if (this.next >= this.total) return;
    if (this.next < due) this.starved = true;
    else this.timer = setTimeout(() => this.tick(false), Math.max(1, Math.floor(this.start + this.next * this.intervalMs - now)));
  }

  protected answered(slot: number, now: number): void {
    this.free[this.freeTop++] = slot;
    if (this.starved) this.tick(true);
    else this.maybeFinish(now);
  }

  protected drained(): boolean {
    return this.next >= this.total;
  }

  protected override giveUp(): void {
    const unsent = this.total - this.next;
    if (unsent > 0) {
      this.recorder.requests += unsent;
      this.recorder.failure('not sent', `${unsent} requests were due but all ${this.slots} slots (--max-inflight) were taken until the end`, unsent);
      this.next = this.total;
    }
    super.giveUp();
  }

  protected override stopSending(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
