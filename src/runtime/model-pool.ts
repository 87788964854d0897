import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { NumericArray } from '../core/datatypes.js';
import { GatewayError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { holdsReplacementChar } from '../core/text-bytes.js';
import type { DescribeResult, WireTensor, WorkerOptions, WorkerTask } from './wire.js';
import { INFERENCE_ERROR_PREFIX } from './wire.js';

const UTF8 = new TextDecoder();
const ENCODER = new TextEncoder();

/**
 * The worker entry: worker.js next to this file in the build. When this module runs from
 * source (vitest, tsx), the compiled dist/runtime/worker.js is used instead: Node 20 cannot
 * apply a TypeScript loader inside worker threads for ESM (the test setup builds dist/ first).
 */
function workerEntry(): string {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(js)) return js;
  const built = fileURLToPath(new URL('../../dist/runtime/worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error('worker entry not found: run `npm run build` first');
}

export interface ModelPoolOptions extends WorkerOptions {
  instances: number;
}

/**
 * A model version's instances: `instances` piscina worker threads, each holding its own ONNX
 * Runtime session. Implements the batcher's BatchRunner. Ownership: run() takes the input
 * tensors' buffers (they are moved to the worker and unusable afterwards); the output tensors
 * it resolves with belong to the caller.
 */
export class ModelPool {
  readonly instances: number;
  readonly description: DescribeResult;
  private readonly piscina: Piscina;
  private closed = false;
  private running = 0;
  private idle: (() => void) | null = null;

  private constructor(piscina: Piscina, instances: number, description: DescribeResult) {
    this.piscina = piscina;
    this.instances = instances;
    this.description = description;
  }

  /** Starts the workers and waits until every instance has loaded its session. */
  static async start(opts: ModelPoolOptions): Promise<ModelPool> {
    const workerData: WorkerOptions = {
      modelName: opts.modelName,
      modelVersion: opts.modelVersion,
      modelPath: opts.modelPath,
      executionProviders: opts.executionProviders,
      intraOpThreads: opts.intraOpThreads,
    };
    const piscina = new Piscina({
      filename: workerEntry(),
      workerData,
      minThreads: opts.instances,
      maxThreads: opts.instances,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      // The batcher never hands out more batches than there are instances.
      maxQueue: opts.instances * 4,
      // Off: piscina's run/wait-time histograms are two native HdrHistograms (0.69 MiB of
      // malloc per pool) that V8 does not count, so each retired pool's pair lived on until a
      // major collection, which V8 seldom makes when only reloads allocate: RSS grew by that
      // much per reload (issue 14 item 10, test/memory/reload-memory.test.ts). Nothing reads
      // them; batch timings come from the batcher's diagnostics channel.
      recordTiming: false,
    });
    piscina.on('error', () => {
      // A worker's uncaught error is reported through the failing task; piscina replaces it.
    });
    try {
      const describeTask: WorkerTask = { kind: 'describe' };
      const all = await Promise.all(Array.from({ length: opts.instances }, () => piscina.run(describeTask) as Promise<DescribeResult>));
      return new ModelPool(piscina, opts.instances, all[0]);
    } catch (e) {
      await piscina.destroy().catch(() => undefined);
      throw new Error(loadFailure(e));
    }
  }

  async run(inputs: Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    if (this.closed) throw new GatewayError('SY_ERR_MODEL_UNAVAILABLE', 'model version is being unloaded; retry');
    const wire: WireTensor[] = new Array(inputs.length);
    const transferList: ArrayBuffer[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i];
      if (t.datatype === 'BYTES') {
        wire[i] = { name: t.name, datatype: t.datatype, dims: t.shape, data: (t.data as Uint8Array[]).map((b) => UTF8.decode(b)) };
      } else {
        const data = t.data as NumericArray;
        wire[i] = { name: t.name, datatype: t.datatype, dims: t.shape, data };
        if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !transferList.includes(data.buffer as ArrayBuffer)) {
          transferList.push(data.buffer as ArrayBuffer);
        }
      }
    }
    const task: WorkerTask = { kind: 'run', inputs: wire, outputs: outputNames };
    let result: WireTensor[];
    this.running++;
    try {
      result = (await this.piscina.run(task, { transferList })) as WireTensor[];
    } catch (e) {
      throw runFailure(e);
    } finally {
      if (--this.running === 0 && this.idle !== null) this.idle();
    }
    const out: Tensor[] = new Array(result.length);
    for (let i = 0; i < result.length; i++) {
      const w = result[i];
      if (w.datatype === 'BYTES') checkTextOutput(w.name, w.data as string[], inputs);
      const data = w.datatype === 'BYTES' ? (w.data as string[]).map((s) => ENCODER.encode(s)) : (w.data as NumericArray);
      out[i] = new Tensor(w.name, w.datatype, w.dims, data);
    }
    return out;
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /**
   * Stops the workers (and with them the ORT sessions: released in place they leak). Waits
   * for running batches first: terminating a thread inside ORT's run() aborts the process.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.running > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    // One release task per idle worker (each worker takes one task at a time, so they spread).
    const release: WorkerTask = { kind: 'release' };
    await Promise.all(Array.from({ length: this.instances }, () => this.piscina.run(release).catch(() => undefined)));
    await this.piscina.destroy();
  }
}

/**
 * ONNX Runtime's Node binding decodes a string output as UTF-8, putting U+FFFD where the model
 * wrote bytes that are not UTF-8 (a byte-level tokenizer's partial characters, say). A U+FFFD
 * no input of the batch held is taken for such a change and refused, rather than answered as
 * if it were the model's output.
 */
function checkTextOutput(name: string, data: readonly string[], inputs: readonly Tensor[]): void {
  const i = data.findIndex((s) => s.includes('\uFFFD'));
  if (i === -1) return;
  if (inputs.some((t) => t.datatype === 'BYTES' && (t.data as Uint8Array[]).some(holdsReplacementChar))) return;
  throw new GatewayError(
    'SY_ERR_INFERENCE_FAILED',
    `output "${name}": element ${i} holds U+FFFD, which ONNX Runtime's Node binding puts in place of bytes that are not UTF-8, and no input held one; switchyard refuses rather than answer changed bytes (have the model write UTF-8 text, or UINT8)`,
  );
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function loadFailure(e: unknown): string {
  return message(e).split('\n')[0];
}

function runFailure(e: unknown): GatewayError {
  const msg = message(e);
  if (msg.startsWith(INFERENCE_ERROR_PREFIX)) {
    return new GatewayError('SY_ERR_INFERENCE_FAILED', `inference failed: ${msg.slice(INFERENCE_ERROR_PREFIX.length)}`, { cause: e });
  }
  return new GatewayError('SY_ERR_WORKER_DIED', 'the model instance running this request stopped; it is being replaced, retry the request', {
    cause: e,
    retryAfterS: 1,
  });
}
