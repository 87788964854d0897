/**
 * Microbenchmark of serialising one request log record (RequestRecord.toLine), the largest
 * per-request cost of the request log on the event loop: the generic form (build the JSON
 * object, JSON.stringify it) against the record's own serialiser (writeJson into bytes,
 * which toLine() decodes to a string).
 *
 *   npx tsx bench/micro/request-record.ts [--records 300000]
 */
import { parseArgs } from 'node:util';
import { Tensor } from '../../src/core/tensor.js';
import { RequestRecord, TensorShape, summariseOutputs } from '../../src/telemetry/request-log/index.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '300000' } } });
const N = Number(values.records);

function record(i: number): RequestRecord {
  const r = new RequestRecord(`3k9x-mh2a7-${i.toString(36)}`, 'tabular', 'rest');
  r.version = '2';
  r.queueUs = 812.4;
  r.computeUs = 413.9;
  r.totalUs = 1402.2;
  r.batchSize = 37;
  r.inputs = [new TensorShape('x', 'FP32', [1, 16])];
  r.outputs = summariseOutputs([new Tensor('probabilities', 'FP32', [1, 3], Float32Array.of(0.1, 0.7, 0.2)), new Tensor('label', 'INT64', [1], BigInt64Array.of(1n))]);
  return r;
}

/** ns per record of building one and serialising it with `serialise`, after a warm-up pass. */
function time(serialise: (r: RequestRecord) => string): number {
  let bytes = 0;
  for (let pass = 0; pass < 2; pass++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) bytes += serialise(record(i)).length;
    if (pass === 1) return ((performance.now() - t0) * 1e6) / N + bytes * 0;
  }
  return NaN;
}

const build = time((r) => (r.id.length > 0 ? '' : 'x'));
const generic = time((r) => JSON.stringify(r.toJSON()));
const handWritten = time((r) => r.toLine());
const generic2 = time((r) => JSON.stringify(r.toJSON()));
const handWritten2 = time((r) => r.toLine());
const line = (label: string, a: number, b: number): string => `${label}${(Math.min(a, b) - build).toFixed(0)} ns/record (best of two passes, record construction of ${build.toFixed(0)} ns subtracted)\n`;
process.stdout.write(line('JSON.stringify(toJSON()): ', generic, generic2) + line('toLine():                 ', handWritten, handWritten2));
