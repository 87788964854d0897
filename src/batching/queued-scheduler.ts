import { GatewayError, cancelled, deadlineExceeded, queueFull, timedOut, toGatewayError } from '../core/errors.js';
import { InferResponse, type InferRequest } from '../core/request.js';
import type { Tensor } from '../core/tensor.js';
import { DeadlineHeap } from './deadline-heap.js';
import { completeChannel, dispatchChannel } from './diagnostics.js';
import { QUEUED, type Batch, Pending } from './pending.js';
import { RequestQueue } from './request-queue.js';
import type { BatcherOptions, BatchRunner, Scheduler } from './scheduler.js';

/** What made a scheduler look at its queue. */
export const TRIGGER_ENQUEUE = 0;
export const TRIGGER_INSTANCE_FREE = 1;
export const TRIGGER_TIMER = 2;
export const TRIGGER_DRAIN = 3;
export type Trigger = typeof TRIGGER_ENQUEUE | typeof TRIGGER_INSTANCE_FREE | typeof TRIGGER_TIMER | typeof TRIGGER_DRAIN;

/**
 * Everything a scheduler does except deciding what to run next: admission (draining, queue
 * size, priority level, timeout), the priority queue, one timer for the nearest queue
 * deadline, cancellation, the instance count, running a batch and answering its requests,
 * diagnostics events, and drain. Subclasses implement `schedule` (when and what to
 * dispatch), `assemble` (the runner's inputs), `checkOutputs` and `outputFor` (a request's
 * share of an output).
 */
export abstract class QueuedScheduler implements Scheduler {
  protected readonly model: string;
  protected readonly version: string;
  protected readonly queue: RequestQueue;
  private readonly runner: BatchRunner;
  private readonly instances: number;
  private readonly maxQueueSize: number;
  private readonly defaultTimeoutUs: number;
  private readonly levels: number;
  private readonly defaultLevel: number;
  private readonly allOutputs: readonly string[];
  private readonly outputIndex: Map<string, number>;
  /** scratch for the union of the outputs a batch's requests asked for */
  private readonly outputMask: Uint8Array;
  private readonly deadlines: DeadlineHeap<Pending>;
  private deadlineTimer: NodeJS.Timeout | null;
  /** performance.now() the deadline timer is armed for; Infinity when none */
  private deadlineTimerAt: number;
  private running: number;
  private draining: boolean;
  private drainPromise: Promise<void> | null;
  private drainResolve: (() => void) | null;
  private drainTimer: NodeJS.Timeout | null;
  private readonly deadlineTick: () => void;

  constructor(opts: BatcherOptions) {
    const levels = opts.priorityLevels;
    if (!Number.isInteger(levels) || levels < 1) throw new RangeError(`priorityLevels must be an integer >= 1, got ${levels}`);
    if (!Number.isInteger(opts.defaultPriorityLevel) || opts.defaultPriorityLevel < 1 || opts.defaultPriorityLevel > levels) {
      throw new RangeError(`defaultPriorityLevel must be in 1..${levels}, got ${opts.defaultPriorityLevel}`);
    }
    if (!Number.isInteger(opts.instances) || opts.instances < 1) throw new RangeError(`instances must be an integer >= 1, got ${opts.instances}`);
    if (opts.outputNames.length === 0) throw new RangeError('outputNames must name at least one output');
    this.model = opts.modelName;
    this.version = opts.modelVersion;
    this.queue = new RequestQueue(levels);
    this.runner = opts.runner;
    this.instances = opts.instances;
    this.maxQueueSize = Math.max(0, opts.maxQueueSize);
    this.defaultTimeoutUs = Math.max(0, opts.defaultTimeoutUs);
    this.levels = levels;
    this.defaultLevel = opts.defaultPriorityLevel - 1;
    this.allOutputs = Object.freeze(opts.outputNames.slice());
    this.outputIndex = new Map(this.allOutputs.map((n, i) => [n, i]));
    this.outputMask = new Uint8Array(this.allOutputs.length);
    this.deadlines = new DeadlineHeap<Pending>();
    this.deadlineTimer = null;
    this.deadlineTimerAt = Infinity;
    this.running = 0;
    this.draining = false;
    this.drainPromise = null;
    this.drainResolve = null;
    this.drainTimer = null;
    this.deadlineTick = () => this.onDeadlineTimer();
  }

  get queued(): number {
    return this.queue.count;
  }

  get inflight(): number {
    return this.running;
  }

  enqueue(req: InferRequest, items: number): Promise<InferResponse> {
    const refused = this.admit(req, items);
    if (refused !== null) return Promise.reject(refused);
    const now = performance.now();
    const level = req.shadow ? this.levels - 1 : this.levelOf(req.priority);
    const p = new Pending(req, items, level, now, req.timeoutUs > 0 ? req.timeoutUs : this.defaultTimeoutUs);
    const promise = new Promise<InferResponse>((resolve, reject) => {
      p.resolve = resolve;
      p.reject = reject;
    });
    this.queue.push(p);
    if (p.deadline !== Infinity) {
      this.deadlines.push(p);
      if (p.deadline < this.deadlineTimerAt) this.armDeadlineTimer(now);
    }
    // InferRequest.onCancel receives only the request: a closure is the direct way back to
    // its queue entry (the alternative being a request → entry Map kept for every request).
    req.onCancel = () => this.cancelQueued(p);
    this.poll(TRIGGER_ENQUEUE, now);
    return promise;
  }

  drain(timeoutMs: number): Promise<void> {
    if (this.drainPromise !== null) return this.drainPromise;
    this.draining = true;
    this.drainPromise = new Promise<void>((resolve) => {
      this.drainResolve = resolve;
    });
    this.poll(TRIGGER_DRAIN, performance.now());
    if (!this.checkDrained() && Number.isFinite(timeoutMs)) {
      this.drainTimer = setTimeout(() => this.drainTimedOut(), Math.max(0, timeoutMs));
    }
    return this.drainPromise;
  }

  /**
   * Decides what to dispatch now and calls `dispatch` for it; runs on every trigger, after
   * expired requests have left the queue (so every queued request may still run).
   */
  protected abstract schedule(trigger: Trigger, now: number): void;

  /** The runner's inputs for a batch (fresh buffers the runner may transfer). */
  protected abstract assemble(batch: Batch): Tensor[];

  /** Why the runner's outputs do not fit the batch, or null when they do. */
  protected abstract checkOutputs(batch: Batch, outputs: readonly Tensor[]): string | null;

  /** `p`'s share of batch output `t` (named `name`). */
  protected abstract outputFor(batch: Batch, p: Pending, t: Tensor, name: string): Tensor;

  /** Why `items` cannot be queued, or null. */
  protected checkItems(_items: number): GatewayError | null {
    return null;
  }

  protected get freeInstances(): number {
    return this.instances - this.running;
  }

  protected get isDraining(): boolean {
    return this.draining;
  }

  /** Drops expired requests, then lets the subclass dispatch. */
  protected poll(trigger: Trigger, now: number): void {
    this.expireDue(now);
    this.schedule(trigger, now);
  }

  /** Rejects every queued request whose deadline has passed. */
  private expireDue(now: number): void {
    const heap = this.deadlines;
    let top = heap.peek();
    if (top === undefined || top.deadline > now) return;
    while (top !== undefined && top.deadline <= now) {
      heap.pop();
      this.queue.drop(top);
      top.req.onCancel = null;
      top.reject(top.deadline === top.req.deadline ? deadlineExceeded(this.model, this.version) : timedOut(this.model, this.version, top.timeoutUs));
      top = heap.peek();
    }
    this.armDeadlineTimer(now);
    this.checkDrained();
  }

  /**
   * Runs `batch` (its requests still queued) on a free instance: takes its requests off the
   * queue, assembles the inputs and calls the runner. The caller checked `freeInstances`.
   */
  protected dispatch(batch: Batch, now: number): void {
    const reqs = batch.requests;
    for (let i = 0; i < reqs.length; i++) {
      const p = reqs[i];
      this.queue.take(p);
      this.deadlines.remove(p);
      p.req.onCancel = null;
    }
    if (this.deadlines.size === 0) this.clearDeadlineTimer();
    batch.dispatchedAt = now;
    batch.outputNames = this.outputsFor(reqs);
    let inputs: Tensor[];
    try {
      inputs = this.assemble(batch);
    } catch (e) {
      const err = toGatewayError(e);
      for (let i = 0; i < reqs.length; i++) reqs[i].reject(err);
      this.checkDrained();
      return;
    }
    this.running++;
    batch.startedAt = performance.now();
    if (dispatchChannel.hasSubscribers) {
      dispatchChannel.publish({ model: this.model, version: this.version, items: batch.items, requests: reqs.length, reason: batch.reason });
    }
    let done: Promise<Tensor[]>;
    try {
      done = this.runner.run(inputs, batch.outputNames);
    } catch (e) {
      done = Promise.reject(e);
    }
    done.then(
      (outputs) => this.finish(batch, outputs),
      (e: unknown) => this.fail(batch, e, performance.now()),
    );
  }

  private finish(batch: Batch, outputs: Tensor[]): void {
    const end = performance.now();
    batch.ranAt = end;
    const names = batch.outputNames;
    let problem = Array.isArray(outputs) && outputs.length === names.length ? null : `runner returned ${Array.isArray(outputs) ? outputs.length : 'no'} outputs, expected ${names.length}`;
    if (problem === null) problem = this.checkOutputs(batch, outputs);
    if (problem !== null) {
      this.fail(batch, new GatewayError('SY_ERR_INFERENCE_FAILED', `model "${this.model}" version "${this.version}": ${problem}`), end);
      return;
    }
    const computeUs = (end - batch.dispatchedAt) * 1000;
    const reqs = batch.requests;
    try {
      for (let i = 0; i < reqs.length; i++) {
        const p = reqs[i];
        const res = new InferResponse(p.req.id, this.model, this.version, this.responseOutputs(batch, p, outputs));
        res.queueUs = (batch.dispatchedAt - p.enqueuedAt) * 1000;
        res.computeUs = computeUs;
        res.batchSize = batch.items;
        p.resolve(res);
      }
    } catch (e) {
      // settling a settled promise is a no-op: this fails only the requests not yet answered
      this.fail(batch, e, end);
      return;
    }
    this.completed(batch, performance.now(), null);
  }

  private fail(batch: Batch, e: unknown, end: number): void {
    if (batch.ranAt === 0) batch.ranAt = end;
    const err = toGatewayError(e);
    const reqs = batch.requests;
    for (let i = 0; i < reqs.length; i++) reqs[i].reject(err);
    this.completed(batch, end, err);
  }

  /** The instance of `batch` is free again (at `end`): report, then look at the queue. */
  private completed(batch: Batch, end: number, failure: GatewayError | null): void {
    this.running--;
    if (completeChannel.hasSubscribers) {
      const computeUs = (end - batch.dispatchedAt) * 1000;
      completeChannel.publish({
        model: this.model,
        version: this.version,
        items: batch.items,
        requests: batch.requests.length,
        computeUs,
        inputUs: (batch.startedAt - batch.dispatchedAt) * 1000,
        inferUs: (batch.ranAt - batch.startedAt) * 1000,
        outputUs: (end - batch.ranAt) * 1000,
        error: failure !== null,
        failure,
        dispatchedAt: batch.dispatchedAt,
        traces: tracesOf(batch.requests),
      });
    }
    this.poll(TRIGGER_INSTANCE_FREE, end);
    this.checkDrained();
  }

  /** The outputs `p` asked for, in its order (all, in signature order, when it named none). */
  private responseOutputs(batch: Batch, p: Pending, outputs: readonly Tensor[]): Tensor[] {
    const names = batch.outputNames;
    const asked = p.req.outputs;
    if (asked === null) {
      const res = new Array<Tensor>(names.length);
      for (let j = 0; j < names.length; j++) res[j] = this.outputFor(batch, p, outputs[j], names[j]);
      return res;
    }
    const res = new Array<Tensor>(asked.length);
    for (let k = 0; k < asked.length; k++) {
      const j = names.indexOf(asked[k].name);
      res[k] = this.outputFor(batch, p, outputs[j], names[j]);
    }
    return res;
  }

  /** The outputs to ask of the runner: the union of what the requests asked for, in signature order. */
  private outputsFor(reqs: readonly Pending[]): readonly string[] {
    const mask = this.outputMask;
    mask.fill(0);
    let count = 0;
    for (let i = 0; i < reqs.length; i++) {
      const asked = reqs[i].req.outputs;
      if (asked === null) return this.allOutputs;
      for (let k = 0; k < asked.length; k++) {
        const j = this.outputIndex.get(asked[k].name) as number;
        if (mask[j] === 0) {
          mask[j] = 1;
          count++;
        }
      }
    }
    if (count === 0 || count === mask.length) return this.allOutputs;
    const names: string[] = [];
    for (let j = 0; j < mask.length; j++) if (mask[j] === 1) names.push(this.allOutputs[j]);
    return names;
  }

  private admit(req: InferRequest, items: number): GatewayError | null {
    if (this.draining) return this.drainingError();
    if (req.cancelled) return cancelled();
    if (this.maxQueueSize > 0 && this.queue.count >= this.maxQueueSize) return queueFull(this.model, this.version, this.maxQueueSize);
    const asked = req.outputs;
    if (asked !== null) {
      for (let k = 0; k < asked.length; k++) {
        if (!this.outputIndex.has(asked[k].name)) {
          return new GatewayError('SY_ERR_INVALID_INPUT', `model "${this.model}" version "${this.version}": unknown output "${asked[k].name}"; the model has ${this.allOutputs.map((n) => `"${n}"`).join(', ')}`);
        }
      }
    }
    return this.checkItems(items);
  }

  /** 0-based level of a request priority (1 = highest); 0 or out of range → the default. */
  private levelOf(priority: number): number {
    return Number.isInteger(priority) && priority >= 1 && priority <= this.levels ? priority - 1 : this.defaultLevel;
  }

  private cancelQueued(p: Pending): void {
    if (p.state !== QUEUED) return;
    this.queue.drop(p);
    this.deadlines.remove(p);
    p.reject(cancelled());
    this.checkDrained();
  }

  private armDeadlineTimer(now: number): void {
    const top = this.deadlines.peek();
    if (top === undefined) {
      this.clearDeadlineTimer();
      return;
    }
    if (this.deadlineTimer !== null && this.deadlineTimerAt <= top.deadline) return;
    this.clearDeadlineTimer();
    this.deadlineTimerAt = top.deadline;
    // setTimeout counts from the event loop's cached clock and may fire a little early:
    // onDeadlineTimer re-arms when nothing is due yet.
    this.deadlineTimer = setTimeout(this.deadlineTick, Math.max(1, Math.ceil(top.deadline - now)));
  }

  private clearDeadlineTimer(): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.deadlineTimerAt = Infinity;
  }

  private onDeadlineTimer(): void {
    this.deadlineTimer = null;
    this.deadlineTimerAt = Infinity;
    const now = performance.now();
    this.expireDue(now);
    this.armDeadlineTimer(now);
  }

  private drainingError(): GatewayError {
    return new GatewayError('SY_ERR_DRAINING', `model "${this.model}" version "${this.version}" is shutting down; retry on another replica`, { retryAfterS: 1 });
  }

  private drainTimedOut(): void {
    this.drainTimer = null;
    const err = this.drainingError();
    this.queue.removeAll((p) => {
      this.deadlines.remove(p);
      p.req.onCancel = null;
      p.reject(err);
    });
    this.clearDeadlineTimer();
    this.resolveDrain();
  }

  /** Resolves drain() once nothing is queued or running; true when drained. */
  private checkDrained(): boolean {
    if (this.drainResolve === null || this.queue.count > 0 || this.running > 0) return false;
    this.resolveDrain();
    return true;
  }

  private resolveDrain(): void {
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    const resolve = this.drainResolve;
    this.drainResolve = null;
    if (resolve !== null) resolve();
  }
}

/** The requests' trace handles, or null when none of them is traced (the common case). */
function tracesOf(reqs: readonly Pending[]): unknown[] | null {
  let any = false;
  for (let i = 0; i < reqs.length && !any; i++) any = reqs[i].req.trace !== null;
  if (!any) return null;
  return reqs.map((p) => p.req.trace);
}
