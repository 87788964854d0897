/**
 * The compute ceiling: onnxruntime-node in process, no server, no protocol, no batching
 * logic, just `session.run()` back to back on one session created with ORT's defaults
 * (intra-op threads = the machine's cores, spin-waiting on). For each batch size it runs one
 * second of warm-up, then `seconds` of measured runs, and reports rows per second; the best
 * batch size is the ceiling a gateway serving one row per request can approach.
 *
 * Runs as its own process, so that its threads and heap are not the load generator's:
 *   node --import tsx bench/servers/raw-ort.ts model.onnx <input> <row width> <batch sizes> <seconds>
 * Prints one JSON line: {"ort":"<version>","threads":"default","results":[{batch,runs,rowsPerSec,msPerRun}]}.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';

const [modelPath, inputName, widthArg, batchesArg, secondsArg] = process.argv.slice(2);
if (modelPath === undefined || inputName === undefined || widthArg === undefined || batchesArg === undefined || secondsArg === undefined) {
  process.stderr.write('usage: raw-ort.ts model.onnx input width batch,sizes seconds\n');
  process.exit(2);
}
const width = Number(widthArg);
const batches = batchesArg.split(',').map(Number);
const seconds = Number(secondsArg);

const require = createRequire(import.meta.url);
const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
const session = await ort.InferenceSession.create(modelPath);

/** A fixed pseudo-random input (the same every run) of `rows` rows. */
function input(rows: number): ort.Tensor {
  const data = new Float32Array(rows * width);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s / 0xffffffff) * 2 - 1;
  }
  return new ort.Tensor('float32', data, [rows, width]);
}

async function runFor(feeds: Record<string, ort.Tensor>, ms: number): Promise<{ runs: number; elapsedMs: number }> {
  const start = performance.now();
  let runs = 0;
  let now = start;
  while (now - start < ms) {
    await session.run(feeds);
    runs++;
    now = performance.now();
  }
  return { runs, elapsedMs: now - start };
}

const results: { batch: number; runs: number; rowsPerSec: number; msPerRun: number }[] = [];
for (const batch of batches) {
  const feeds = { [inputName]: input(batch) };
  await runFor(feeds, 1000);
  const { runs, elapsedMs } = await runFor(feeds, seconds * 1000);
  results.push({ batch, runs, rowsPerSec: (runs * batch * 1000) / elapsedMs, msPerRun: elapsedMs / runs });
}
process.stdout.write(`${JSON.stringify({ ort: ortVersion, threads: 'default', results })}\n`);
process.exit(0);
