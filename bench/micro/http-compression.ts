/**
 * Microbenchmark behind RESPONSE_LEVEL in src/transport/http/compression.ts: zlib levels on
 * typical infer response bodies (a JSON FP32 tensor, and the same tensor binary after a JSON
 * header), sync calls on one thread so that CPU time per body is what is measured.
 *
 *   npx tsx bench/micro/http-compression.ts [--runs 200]
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { deflateSync, gzipSync } from 'node:zlib';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' } } });
const RUNS = Number(values.runs);

function seeded(n: number): Float32Array {
  let s = 12345;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = Math.fround((s / 2 ** 32 - 0.5) * 4);
  }
  return a;
}

const values4k = seeded(4096);
const jsonBody = Buffer.from(JSON.stringify({ id: 'r', model_name: 'm', model_version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4096], data: Array.from(values4k) }] }));
const header = Buffer.from('{"id":"r","model_name":"m","model_version":"1","outputs":[{"name":"y","datatype":"FP32","shape":[1,4096],"parameters":{"binary_data_size":16384}}]}');
const binaryBody = Buffer.concat([header, Buffer.from(values4k.buffer)]);

console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'}, ${RUNS} runs per case`);
for (const [name, body] of [
  ['JSON FP32 x4096', jsonBody],
  ['binary FP32 x4096', binaryBody],
] as const) {
  for (const [coding, fn] of [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const) {
    for (const level of [1, 6]) {
      for (let i = 0; i < 20; i++) fn(body, { level });
      let size = 0;
      const started = performance.now();
      for (let i = 0; i < RUNS; i++) size = fn(body, { level }).byteLength;
      const us = ((performance.now() - started) * 1000) / RUNS;
      console.log(`${name.padEnd(18)} ${coding.padEnd(8)} level ${level}: ${body.byteLength} → ${size} bytes (${((100 * size) / body.byteLength).toFixed(1)}%), ${us.toFixed(0)} µs`);
    }
  }
}
