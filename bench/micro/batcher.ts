/**
 * Microbenchmark of the batching layer's own cost: single-row requests through a scheduler
 * whose runner answers at once, by closed-loop clients (each enqueues its next request when
 * the previous one is answered). Baselines in the same run: calling the runner directly per
 * request (no scheduler), and the pass-through scheduler.
 *
 * The instant runner echoes the batch's input buffer. A typed array under 64 bytes lives on
 * V8's heap, and `subarray` on it first moves it off-heap (~400 ns against ~35 ns for an
 * off-heap one, measured on Node 20): that is most of the gap between the max_batch_size 1
 * and pass-through rows. Real runner outputs arrive from worker threads, off-heap.
 *
 *   npx tsx bench/micro/batcher.ts [--requests 1000000] [--concurrency 256] [--max-batch 64]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DynamicBatcher, PassThroughScheduler, type BatchRunner, type BatcherOptions, type Scheduler } from '../../src/batching/index.js';
import { InferRequest } from '../../src/core/request.js';
import { Tensor } from '../../src/core/tensor.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '256' },
    'max-batch': { type: 'string', default: '64' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const MAX_BATCH = Number(values['max-batch']);
const ROW = 4;

/** Answers every batch at once with its own input as the output "y" (no allocation). */
class InstantRunner implements BatchRunner {
  batches = 0;
  rows = 0;

  run(inputs: Tensor[]): Promise<Tensor[]> {
    this.batches++;
    this.rows += inputs[0].shape[0];
    return Promise.resolve([new Tensor('y', inputs[0].datatype, inputs[0].shape, inputs[0].data)]);
  }
}

function makeRequest(i: number): InferRequest {
  const data = new Float32Array(ROW);
  data[0] = i;
  const req = new InferRequest('bench', '1', [new Tensor('x', 'FP32', [1, ROW], data)], 'rest', 0);
  req.id = 'r';
  return req;
}

function options(runner: BatchRunner, maxBatchSize: number): BatcherOptions {
  return {
    modelName: 'bench',
    modelVersion: '1',
    maxBatchSize,
    maxQueueDelayUs: 0,
    preferredBatchSizes: [],
    maxQueueSize: 0,
    defaultTimeoutUs: 0,
    priorityLevels: 1,
    defaultPriorityLevel: 1,
    instances: 1,
    outputNames: ['y'],
    runner,
  };
}

interface Result {
  readonly name: string;
  readonly rps: number;
  readonly meanBatch: number;
}

/** `total` requests through `send` by CONCURRENCY closed-loop clients; resolves with requests/s. */
async function closedLoop(total: number, send: (req: InferRequest) => Promise<unknown>): Promise<number> {
  let issued = 0;
  const client = async (): Promise<void> => {
    while (issued < total) {
      issued++;
      await send(makeRequest(issued));
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return total / ((performance.now() - start) / 1000);
}

async function measure(name: string, build: (runner: InstantRunner) => ((req: InferRequest) => Promise<unknown>) | Scheduler): Promise<Result> {
  const sendOf = (runner: InstantRunner): ((req: InferRequest) => Promise<unknown>) => {
    const built = build(runner);
    return typeof built === 'function' ? built : (req) => built.enqueue(req, 1);
  };
  await closedLoop(Math.min(100_000, REQUESTS), sendOf(new InstantRunner())); // warm-up
  const runner = new InstantRunner();
  const rps = await closedLoop(REQUESTS, sendOf(runner));
  return { name, rps, meanBatch: runner.rows / Math.max(1, runner.batches) };
}

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`node ${process.version} · ${os.platform()} ${os.arch()} · ${cpu} × ${os.cpus().length}`);
  console.log(`${REQUESTS} single-row FP32[1,${ROW}] requests, ${CONCURRENCY} closed-loop clients, instant runner, 1 instance\n`);
  const results: Result[] = [];
  results.push(await measure('runner directly (baseline, no scheduler)', (runner) => (req) => runner.run(req.inputs)));
  results.push(await measure('PassThroughScheduler', (runner) => new PassThroughScheduler(options(runner, 0))));
  results.push(await measure(`DynamicBatcher max_batch_size ${MAX_BATCH}`, (runner) => new DynamicBatcher(options(runner, MAX_BATCH))));
  results.push(await measure('DynamicBatcher max_batch_size 1', (runner) => new DynamicBatcher(options(runner, 1))));
  for (const r of results) {
    console.log(`${r.name.padEnd(44)} ${Math.round(r.rps).toLocaleString('en-US').padStart(12)} req/s   mean batch ${r.meanBatch.toFixed(1)}`);
  }
}

await main();
