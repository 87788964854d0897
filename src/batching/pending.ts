import type { InferRequest, InferResponse } from '../core/request.js';
import type { DispatchReason } from './scheduler.js';

/** Where a Pending is in its life; it leaves QUEUED exactly once. */
export const QUEUED = 0;
export const DISPATCHED = 1;
/** cancelled, timed out, or rejected by drain: settled without running */
export const DROPPED = 2;
export type PendingState = typeof QUEUED | typeof DISPATCHED | typeof DROPPED;

/**
 * One enqueued request while the scheduler owns it. A class with every field assigned in
 * the constructor so that all instances share one hidden class (the hot path touches
 * thousands per second).
 */
export class Pending {
  readonly req: InferRequest;
  /** dim-0 rows */
  readonly items: number;
  /** 0-based priority level (0 = highest) */
  readonly level: number;
  /** performance.now() at enqueue */
  readonly enqueuedAt: number;
  /** performance.now() after which it must not run; Infinity = no timeout */
  readonly deadline: number;
  /** the timeout that applied, for the error message */
  readonly timeoutUs: number;
  state: PendingState;
  /** position in the DeadlineHeap, -1 when not in it */
  heapIndex: number;
  /** first row of this request in its batch */
  offset: number;
  resolve: (res: InferResponse) => void;
  reject: (err: Error) => void;

  constructor(req: InferRequest, items: number, level: number, enqueuedAt: number, timeoutUs: number) {
    this.req = req;
    this.items = items;
    this.level = level;
    this.enqueuedAt = enqueuedAt;
    this.deadline = Math.min(timeoutUs > 0 ? enqueuedAt + timeoutUs / 1000 : Infinity, req.deadline);
    this.timeoutUs = timeoutUs;
    this.state = QUEUED;
    this.heapIndex = -1;
    this.offset = 0;
    this.resolve = noop;
    this.reject = noop;
  }
}

function noop(): void {}

/** A group of requests dispatched together to one instance. */
export class Batch {
  readonly requests: Pending[];
  /** total dim-0 rows */
  items: number;
  reason: DispatchReason;
  /** the outputs asked of the runner, in signature order */
  outputNames: readonly string[];
  /** performance.now() at dispatch */
  dispatchedAt: number;
  /** performance.now() when its inputs were assembled and handed to the runner */
  startedAt: number;
  /** performance.now() when the runner settled */
  ranAt: number;

  constructor(reason: DispatchReason) {
    this.requests = [];
    this.items = 0;
    this.reason = reason;
    this.outputNames = [];
    this.dispatchedAt = 0;
    this.startedAt = 0;
    this.ranAt = 0;
  }
}
