import type { InferRequest, InferResponse } from '../core/request.js';
import type { Tensor } from '../core/tensor.js';

/**
 * The narrow interface between the gateway and whatever decides when a model version runs
 * a request (Triton's `Scheduler`). Two implementations: DynamicBatcher (max_batch_size > 0)
 * and PassThroughScheduler (max_batch_size 0); `createScheduler` picks one.
 *
 * Ownership at each hand-over:
 * - `enqueue(req)`: from the call on the scheduler owns `req` and its input buffers until the
 *   returned promise settles. It never hands a request's own buffers to the runner: it copies
 *   them into fresh, exactly-sized buffers, so the runner may transfer what it gets.
 * - `BatchRunner.run(inputs)`: the runner owns `inputs` from the call on (it may transfer
 *   or detach them). It hands its output tensors to the scheduler when it resolves.
 * - The response: its outputs are views (`subarray`) into the runner's output buffers, shared
 *   by the requests of one batch; the receiver must not transfer them.
 */

/** Runs one batch on one model instance. Implemented by the worker pool. */
export interface BatchRunner {
  /** runs one batch: inputs concatenated on dim 0; resolves with the model's outputs for the whole batch, in order of outputNames */
  run(inputs: Tensor[], outputNames: readonly string[]): Promise<Tensor[]>;
}

export interface Scheduler {
  /** items = dim-0 rows of the request (validated before); resolves with the response (outputs sliced to this request), rejects with GatewayError */
  enqueue(req: InferRequest, items: number): Promise<InferResponse>;
  /** requests waiting (not yet dispatched) */
  readonly queued: number;
  /** batches running */
  readonly inflight: number;
  /** stop accepting (new enqueues reject with SY_ERR_DRAINING), let queued + inflight finish; resolves when empty or after timeoutMs (then remaining queued requests reject with SY_ERR_DRAINING) */
  drain(timeoutMs: number): Promise<void>;
}

export interface BatcherOptions {
  modelName: string;
  modelVersion: string;
  /** > 0 for the dynamic batcher; 0 = the model does not batch (pass-through) */
  maxBatchSize: number;
  maxQueueDelayUs: number;
  preferredBatchSizes: readonly number[];
  /** 0 = unbounded; beyond → queueFull() error (429) */
  maxQueueSize: number;
  /** 0 = none; request.timeoutUs overrides */
  defaultTimeoutUs: number;
  /** >= 1; request.priority 1..levels, 1 highest; 0 → defaultPriorityLevel */
  priorityLevels: number;
  defaultPriorityLevel: number;
  /** how many batches may run at once */
  instances: number;
  /** all outputs of the model, in signature order */
  outputNames: readonly string[];
  runner: BatchRunner;
}

/** Why a batch left the queue (label of switchyard:batch:dispatch). */
export type DispatchReason = 'full' | 'preferred' | 'delay' | 'instance_free';
