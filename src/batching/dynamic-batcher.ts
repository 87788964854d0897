import { GatewayError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { checkBatchOutputs, concatInputs, sameNonBatchDims, sliceRows } from './batch-assembly.js';
import { QueuedScheduler, TRIGGER_INSTANCE_FREE, TRIGGER_TIMER, type Trigger } from './queued-scheduler.js';
import { Batch, QUEUED, type Pending } from './pending.js';
import type { BatcherOptions, DispatchReason } from './scheduler.js';

/**
 * Triton's dynamic batcher for one model version. Requests are concatenated on dim 0 up to
 * max_batch_size, and a batch leaves only when an instance is free, so batches grow while
 * every instance is busy. With a free instance it leaves when
 * - `full`: the head's batch reached max_batch_size rows or its next request does not fit, or
 *   the queue as a whole holds max_batch_size rows (then waiting would only hold back the
 *   requests that mismatched dims keep out of the head's batch);
 * - `preferred`: the head's batch holds at least the largest preferred size; it takes the
 *   largest preferred size that whole requests add up to (all it holds when none does);
 * - `delay`: the oldest request has waited max_queue_delay_us (at once when that is 0); it
 *   takes the largest preferred size it can form, else everything that fits;
 * - `instance_free`: as `delay`, when the requests had already waited past the delay while
 *   every instance was busy.
 * A batch starts at the first request in priority order (the head) and takes the following
 * requests, level by level in FIFO order, whose non-batch dims match the head's; others are
 * skipped and keep their place, so they head a later batch and are not starved. Requests are
 * never split: the batch ends at the first matching request that does not fit. While draining
 * nothing waits for the delay.
 */
export class DynamicBatcher extends QueuedScheduler {
  private readonly maxBatchSize: number;
  private readonly delayMs: number;
  /** isPreferred[n] === 1 when n is a preferred batch size */
  private readonly isPreferred: Uint8Array;
  private readonly maxPreferred: number;
  /** queued rows at which a batch may leave before the delay */
  private readonly triggerItems: number;
  /** the most queue entries one batch assembly looks at (bounds the cost of skipping mismatched requests) */
  private readonly scanLimit: number;
  /** requests of the batch being formed, reused between batches */
  private readonly picked: (Pending | undefined)[];
  private delayTimer: NodeJS.Timeout | null;
  /** sub-millisecond waits poll on setImmediate: setTimeout cannot wait less than 1 ms */
  private delayImmediate: NodeJS.Immediate | null;
  private readonly delayTick: () => void;

  constructor(opts: BatcherOptions) {
    super(opts);
    const max = opts.maxBatchSize;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBatchSize must be an integer >= 1 for the dynamic batcher, got ${max}`);
    this.maxBatchSize = max;
    this.delayMs = Math.max(0, opts.maxQueueDelayUs) / 1000;
    this.isPreferred = new Uint8Array(max + 1);
    let maxPreferred = 0;
    for (const n of opts.preferredBatchSizes) {
      if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`preferred batch size ${n} must be an integer in 1..max_batch_size (${max})`);
      this.isPreferred[n] = 1;
      if (n > maxPreferred) maxPreferred = n;
    }
    this.maxPreferred = maxPreferred;
    this.triggerItems = maxPreferred > 0 ? maxPreferred : max;
    this.scanLimit = 8 * max + 64;
    this.picked = [];
    this.delayTimer = null;
    this.delayImmediate = null;
    this.delayTick = () => this.onDelayTimer();
  }

  protected override checkItems(items: number): GatewayError | null {
    if (Number.isInteger(items) && items >= 1 && items <= this.maxBatchSize) return null;
    if (items > this.maxBatchSize) {
      return new GatewayError('SY_ERR_BATCH_TOO_LARGE', `batch size ${items} is larger than max_batch_size ${this.maxBatchSize}; split the request`);
    }
    return new GatewayError('SY_ERR_INVALID_INPUT', `batch size (dim 0) must be an integer of at least 1, got ${items}`);
  }

  protected schedule(trigger: Trigger, now: number): void {
    const queue = this.queue;
    while (this.freeInstances > 0 && queue.count > 0) {
      const oldest = queue.oldest() as Pending;
      const expired = this.isDraining || now - oldest.enqueuedAt >= this.delayMs;
      // Rows of the head's batch never exceed the rows queued: no need to look closer yet.
      if (!expired && queue.items < this.triggerItems) break;
      if (!this.formBatch(trigger, now, expired)) break;
    }
    if (queue.count === 0 || this.freeInstances === 0) this.clearDelayTimer();
    else this.armDelayTimer(now);
  }

  /** Picks the head's batch and dispatches it if a rule says so; false when it must wait. */
  private formBatch(trigger: Trigger, now: number, expired: boolean): boolean {
    const queue = this.queue;
    const head = queue.first() as Pending;
    const picked = this.picked;
    const max = this.maxBatchSize;
    let n = 0;
    let items = 0;
    let capped = false;
    let bestN = 0;
    let seen = 0;
    // Levels above the head's hold no live entries, and the head is the front of its own.
    scan: for (let l = head.level; l < queue.levelCount; l++) {
      const q = queue.level(l);
      for (let i = 0; i < q.length; i++) {
        if (++seen > this.scanLimit) break scan;
        const p = q.at(i) as Pending;
        if (p.state !== QUEUED || (p !== head && !sameNonBatchDims(head.req, p.req))) continue;
        if (items + p.items > max) {
          capped = true;
          break scan;
        }
        picked[n++] = p;
        items += p.items;
        if (this.isPreferred[items] === 1) bestN = n;
        if (items === max) {
          capped = true;
          break scan;
        }
      }
    }
    let reason: DispatchReason;
    let take = n;
    if (capped || queue.items >= max) {
      reason = 'full';
    } else if (this.maxPreferred > 0 && items >= this.maxPreferred) {
      reason = 'preferred';
      if (bestN > 0) take = bestN;
    } else if (expired) {
      reason = trigger === TRIGGER_INSTANCE_FREE ? 'instance_free' : 'delay';
      if (bestN > 0) take = bestN;
    } else {
      picked.fill(undefined, 0, n);
      return false;
    }
    const batch = new Batch(reason);
    for (let i = 0; i < take; i++) {
      const p = picked[i] as Pending;
      p.offset = batch.items;
      batch.items += p.items;
      batch.requests.push(p);
    }
    // drop references so that answered requests can be collected
    picked.fill(undefined, 0, n);
    this.dispatch(batch, now);
    return true;
  }

  protected assemble(batch: Batch): Tensor[] {
    return concatInputs(batch.requests, batch.items);
  }

  protected checkOutputs(batch: Batch, outputs: readonly Tensor[]): string | null {
    return checkBatchOutputs(outputs, batch.outputNames, batch.items);
  }

  protected outputFor(_batch: Batch, p: Pending, t: Tensor, name: string): Tensor {
    return sliceRows(t, name, p.offset, p.items);
  }

  /**
   * Arms the delay timer for the oldest request. The oldest only gets younger, so a timer
   * already armed is due no later than this one would be.
   */
  private armDelayTimer(now: number): void {
    if (this.delayTimer !== null || this.delayImmediate !== null) return;
    const oldest = this.queue.oldest() as Pending;
    const remaining = oldest.enqueuedAt + this.delayMs - now;
    if (remaining < 1) {
      // e.g. max_queue_delay_us: 100 — a 1 ms timer would hold the batch ten times too long
      this.delayImmediate = setImmediate(this.delayTick);
      return;
    }
    // setTimeout counts from the event loop's cached clock and may fire a little early:
    // schedule() then finds the delay not yet passed and arms again.
    this.delayTimer = setTimeout(this.delayTick, Math.floor(remaining));
  }

  private clearDelayTimer(): void {
    if (this.delayTimer !== null) {
      clearTimeout(this.delayTimer);
      this.delayTimer = null;
    }
    if (this.delayImmediate !== null) {
      clearImmediate(this.delayImmediate);
      this.delayImmediate = null;
    }
  }

  private onDelayTimer(): void {
    this.delayTimer = null;
    this.delayImmediate = null;
    this.poll(TRIGGER_TIMER, performance.now());
  }
}
