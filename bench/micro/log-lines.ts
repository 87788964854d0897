/**
 * Microbenchmark of turning a batch of request log records into the bytes a file sink
 * writes, per record: the string route (toLine() for each record, then lines.join('\n') and
 * Buffer.from, as the sinks did; or LineEncoder, each line written into one buffer) against
 * RequestRecord.writeJson, which writes the JSON straight into a JsonBytes buffer.
 *
 *   npx tsx bench/micro/log-lines.ts [--batches 2000]
 */
import { parseArgs } from 'node:util';
import { Tensor } from '../../src/core/tensor.js';
import { JsonBytes } from '../../src/telemetry/request-log/json-bytes.js';
import { RequestRecord, TensorShape, summariseOutputs } from '../../src/telemetry/request-log/index.js';
import { LineEncoder } from '../../src/telemetry/request-log/sinks/line-encoder.js';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '2000' } } });
const BATCHES = Number(values.batches);
const BATCH = 256;

function record(i: number): RequestRecord {
  const r = new RequestRecord(`3k9x-mh2a7-${i.toString(36)}`, 'tabular', 'rest');
  r.version = '2';
  r.queueUs = 812.4 + (i % 97);
  r.computeUs = 413.9;
  r.totalUs = 1402.2 + (i % 1013);
  r.batchSize = 37;
  r.inputs = [new TensorShape('x', 'FP32', [1, 16])];
  r.outputs = summariseOutputs([new Tensor('probabilities', 'FP32', [1, 3], Float32Array.of(0.1, 0.7, 0.2)), new Tensor('label', 'INT64', [1], BigInt64Array.of(1n))]);
  return r;
}

/** ns per record of `encode` on fresh records (built outside the timed part), best of three passes. */
function time(encode: (records: RequestRecord[]) => number): number {
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    let ns = 0;
    let bytes = 0;
    for (let b = 0; b < BATCHES; b++) {
      const batch = Array.from({ length: BATCH }, (_, i) => record(b * BATCH + i));
      const t0 = process.hrtime.bigint();
      bytes += encode(batch);
      ns += Number(process.hrtime.bigint() - t0);
    }
    if (bytes === 0) throw new Error('nothing encoded');
    best = Math.min(best, ns / (BATCHES * BATCH));
  }
  return best;
}

const joined = time((rs) => Buffer.from(`${rs.map((r) => r.toLine()).join('\n')}\n`, 'utf8').length);
const encoder = new LineEncoder(true);
const perLine = time((rs) => encoder.encode(rs.map((r) => r.toLine())).length);
const out = new JsonBytes();
const direct = time((rs) => {
  out.reset();
  for (const r of rs) {
    r.writeJson(out);
    out.byte(0x0a);
  }
  return out.bytes().length;
});
process.stdout.write(
  `toLine + join + Buffer.from: ${joined.toFixed(0)} ns/record\n` +
    `toLine + LineEncoder:        ${perLine.toFixed(0)} ns/record\n` +
    `writeJson into JsonBytes:    ${direct.toFixed(0)} ns/record\n` +
    `(batches of ${BATCH}, ${BATCHES} batches, best of three passes)\n`,
);
