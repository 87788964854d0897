import { vi } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import { InferRequest, type RequestedOutput } from '../../src/core/request.js';
import { Tensor } from '../../src/core/tensor.js';
import type { BatchRunner, BatcherOptions } from '../../src/batching/scheduler.js';

/**
 * A fake model for the batcher tests. Input "x" (FP32 [n, k]); outputs, in signature order:
 * "double" = 2x, "plus" = x + 1000 (both [n, k]) and "sum" = row sums ([n, 1]).
 */
export const OUTPUTS = ['double', 'plus', 'sum'] as const;

export function modelOutputs(inputs: Tensor[], names: readonly string[]): Tensor[] {
  const x = inputs[0];
  const data = x.data as Float32Array;
  const [n, k] = x.shape;
  return names.map((name) => {
    if (name === 'double') return new Tensor(name, 'FP32', [n, k], data.map((v) => v * 2));
    if (name === 'plus') return new Tensor(name, 'FP32', [n, k], data.map((v) => v + 1000));
    if (name === 'sum') {
      const out = new Float32Array(n);
      for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) out[r] += data[r * k + c];
      return new Tensor(name, 'FP32', [n, 1], out);
    }
    throw new Error(`fake model has no output ${name}`);
  });
}

export interface RecordedBatch {
  readonly inputs: Tensor[];
  readonly outputNames: readonly string[];
  /** dim 0 of the first input */
  readonly items: number;
  /** the request ids whose rows are in the batch (first column / 1000, see request()) */
  readonly ids: number[];
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * A BatchRunner the test controls. In `manual` mode every batch waits until the test
 * resolves or rejects it; in `instant` mode it answers at once (on a later microtask).
 */
export class FakeRunner implements BatchRunner {
  readonly batches: RecordedBatch[] = [];
  mode: 'manual' | 'instant';

  constructor(mode: 'manual' | 'instant' = 'manual') {
    this.mode = mode;
  }

  run(inputs: Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    let resolve!: (t: Tensor[]) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Tensor[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const x = inputs[0];
    const k = x.shape.length > 1 ? x.shape[1] : 1;
    const ids: number[] = [];
    const data = x.data as Float32Array;
    for (let r = 0; r < x.shape[0]; r++) {
      const id = Math.floor(data[r * k] / 1000);
      if (ids[ids.length - 1] !== id) ids.push(id);
    }
    const batch: RecordedBatch = {
      inputs,
      outputNames,
      items: x.shape[0],
      ids,
      settled: false,
      resolve: () => {
        batch.settled = true;
        resolve(modelOutputs(inputs, outputNames));
      },
      reject: (e) => {
        batch.settled = true;
        reject(e);
      },
    };
    this.batches.push(batch);
    if (this.mode === 'instant') batch.resolve();
    return promise;
  }

  /** Item counts of the batches so far. */
  get sizes(): number[] {
    return this.batches.map((b) => b.items);
  }

  /** The first batch not yet settled. */
  pending(): RecordedBatch {
    const b = this.batches.find((x) => !x.settled);
    if (b === undefined) throw new Error('no batch is running');
    return b;
  }
}

/**
 * A request whose input "x" is FP32 [rows, k]; element (r, c) = id * 1000 + r * k + c, so
 * every value names the request it came from.
 */
export function request(id: number, rows = 1, k = 2, extra?: { priority?: number; timeoutUs?: number; outputs?: string[] }): InferRequest {
  const data = new Float32Array(rows * k);
  for (let i = 0; i < data.length; i++) data[i] = id * 1000 + i;
  const req = new InferRequest('m', '1', [new Tensor('x', 'FP32', [rows, k], data)], 'rest', performance.now());
  req.id = `r${id}`;
  if (extra?.priority !== undefined) req.priority = extra.priority;
  if (extra?.timeoutUs !== undefined) req.timeoutUs = extra.timeoutUs;
  if (extra?.outputs !== undefined) {
    req.outputs = extra.outputs.map((name): RequestedOutput => ({ name, binary: false, parameters: null }));
  }
  return req;
}

export function options(runner: BatchRunner, over: Partial<BatcherOptions> = {}): BatcherOptions {
  return {
    modelName: 'm',
    modelVersion: '1',
    maxBatchSize: 8,
    maxQueueDelayUs: 0,
    preferredBatchSizes: [],
    maxQueueSize: 0,
    defaultTimeoutUs: 0,
    priorityLevels: 1,
    defaultPriorityLevel: 1,
    instances: 1,
    outputNames: OUTPUTS,
    runner,
    ...over,
  };
}

/** Lets pending promise callbacks run (real setImmediate: tests fake only setTimeout and the clock). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The error a promise rejected with (fails when it resolved). */
export async function errorOf(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw new Error(`expected a GatewayError, got ${String(e)}`);
  }
  throw new Error('expected a rejection, got a response');
}

/** Fakes setTimeout/clearTimeout and performance.now(); promise callbacks and setImmediate stay real. */
export function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
}
