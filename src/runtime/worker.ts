/**
 * Piscina worker entry: one ONNX Runtime session per worker thread, i.e. per model instance.
 * Session creation and run() are synchronous native calls in onnxruntime-node, which is why
 * they live here and never on the main thread.
 *
 * Imports only runtime/ and core/ (DESIGN.md: workers import only those).
 */
import { unlinkSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { Piscina } from 'piscina';
import { datatypeFromOrt, ortTypeOf, type NumericArray } from '../core/datatypes.js';
import { halfBits, halfTensor } from './ort-half.js';
import type { DescribeResult, TensorMeta, WireTensor, WorkerOptions, WorkerTask } from './wire.js';
import { INFERENCE_ERROR_PREFIX } from './wire.js';

const options = workerData as WorkerOptions;

/**
 * Fault injection for chaos and integration tests, read once from `SWITCHYARD_FAULT_INJECTION`
 * (unset in production: nothing below runs then). Either form makes a worker thread exit at
 * the start of a batch, as a crashed worker would:
 *   worker-exit-on-run=N        every worker exits at the start of its N-th batch
 *   worker-exit-on-file=PATH    the first worker to start a batch while PATH exists removes it
 *                               and exits: one death per file the test creates, at a moment it
 *                               chooses (only who can write PATH, i.e. the operator, can do it)
 */
const FAULT = process.env.SWITCHYARD_FAULT_INJECTION ?? '';
const EXIT_ON_RUN = /^worker-exit-on-run=(\d+)$/.exec(FAULT);
const exitOnRun = EXIT_ON_RUN === null ? 0 : Number(EXIT_ON_RUN[1]);
const EXIT_ON_FILE = /^worker-exit-on-file=(.+)$/.exec(FAULT);
const exitOnFile = EXIT_ON_FILE === null ? null : EXIT_ON_FILE[1];
let runs = 0;

/** True when this worker removed the trigger file (of racing workers only one can). */
function takeExitFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

async function createSession(): Promise<{ session: ort.InferenceSession; provider: string; fallbacks: string[]; loadMs: number }> {
  const fallbacks: string[] = [];
  const started = performance.now();
  for (const ep of options.executionProviders) {
    try {
      const session = await ort.InferenceSession.create(options.modelPath, {
        executionProviders: [ep],
        // ORT logs a failed provider at ERROR itself; the fallback is reported once, by us.
        logSeverityLevel: ep === 'cpu' ? 2 : 4,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: options.intraOpThreads,
        interOpNumThreads: 1,
        // Spin-waiting keeps idle intra-op threads at 100% CPU; an idle gateway must not burn cores.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
      return { session, provider: ep, fallbacks, loadMs: performance.now() - started };
    } catch (e) {
      fallbacks.push(`${ep}: ${firstLine(e)}`);
    }
  }
  throw new Error(`no execution provider could load the model (${fallbacks.join('; ')})`);
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // ORT messages may embed the absolute model path; clients must not see it.
  return msg.split('\n')[0].split(options.modelPath).join('model.onnx');
}

function meta(list: readonly ort.InferenceSession.ValueMetadata[], kind: string): TensorMeta[] {
  return list.map((m) => {
    if (!m.isTensor) throw new Error(`${kind} "${m.name}" is not a tensor; only tensor inputs and outputs are supported`);
    const datatype = datatypeFromOrt(m.type);
    if (datatype === null) throw new Error(`${kind} "${m.name}" has type ${m.type}, which the v2 protocol cannot carry`);
    const shape = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
    return { name: m.name, datatype, shape };
  });
}

const loaded = await createSession();
const { session } = loaded;
const description: DescribeResult = {
  inputs: meta(session.inputMetadata, 'input'),
  outputs: meta(session.outputMetadata, 'output'),
  provider: loaded.provider,
  fallbacks: loaded.fallbacks,
  loadMs: loaded.loadMs,
};

async function run(inputs: WireTensor[], outputNames: readonly string[]): Promise<unknown> {
  if (released) throw new Error(`${INFERENCE_ERROR_PREFIX}model instance is being unloaded`);
  if (++runs === exitOnRun) process.exit(70);
  if (exitOnFile !== null && takeExitFile(exitOnFile)) process.exit(70);
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of inputs) {
    // The typed array's element class already matches the datatype (see core/datatypes.ts).
    feeds[t.name] = t.datatype === 'FP16' ? halfTensor(t.data as Uint16Array, t.dims) : new ort.Tensor(ortTypeOf(t.datatype) as ort.Tensor.Type, t.data, t.dims);
  }
  let results: ort.InferenceSession.ReturnType;
  try {
    results = await session.run(feeds, outputNames as string[]);
  } catch (e) {
    throw new Error(INFERENCE_ERROR_PREFIX + firstLine(e));
  }
  const out: WireTensor[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const name of outputNames) {
    const t = results[name];
    const datatype = datatypeFromOrt(t.type);
    if (datatype === null) throw new Error(`${INFERENCE_ERROR_PREFIX}output "${name}" has unsupported type ${t.type}`);
    const data = datatype === 'FP16' ? halfBits(t.data as ArrayBufferView) : (t.data as NumericArray | string[]);
    if (!Array.isArray(data)) {
      // onnxruntime-node copies outputs into fresh, whole ArrayBuffers, so they can be moved.
      if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) transfer.push(data.buffer as ArrayBuffer);
    }
    out.push({ name, datatype, dims: t.dims.slice(), data });
  }
  return Piscina.move(new Moved(out, transfer) as unknown as Parameters<typeof Piscina.move>[0]);
}

/** Piscina's transferable protocol: the main thread receives `value`, with `list` moved, not copied. */
class Moved {
  readonly value: WireTensor[];
  readonly list: ArrayBuffer[];
  constructor(value: WireTensor[], list: ArrayBuffer[]) {
    this.value = value;
    this.list = list;
  }
  get [Piscina.transferableSymbol](): ArrayBuffer[] {
    return this.list;
  }
  get [Piscina.valueSymbol](): WireTensor[] {
    return this.value;
  }
}

let released = false;

export default async function handle(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'run':
      return run(task.inputs, task.outputs);
    case 'describe':
      return description;
    case 'release':
      // Free ORT's memory while the thread is still alive: freed at thread teardown it
      // lingers in the allocator's per-thread arenas.
      if (!released) {
        released = true;
        await session.release();
      }
      return true;
  }
}
