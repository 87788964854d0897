/**
 * Microbenchmark of src/protocol/json-text.ts and elements.ts on the paths for Triton's JSON
 * numbers: a common FP32 / INT64 request (JSON.parse only, the path every request takes), one
 * with bare NaN tokens (JSON.parse fails, the tokens are quoted, parsed again) and one whose
 * INT64 data is beyond ±2^53 (decoded, then that input decoded again from an exact re-parse).
 * Baseline in the same run: JSON.parse of the same text.
 *
 *   npx tsx bench/micro/json-numbers.ts [--elements 100000] [--runs 40]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { decodeInferRequest } from '../../src/protocol/index.js';

const { values } = parseArgs({ options: { elements: { type: 'string', default: '100000' }, runs: { type: 'string', default: '40' } } });
const N = Number(values.elements);
const RUNS = Number(values.runs);

function body(datatype: string, data: string): Uint8Array {
  return new TextEncoder().encode(`{"inputs": [{"name": "x", "datatype": "${datatype}", "shape": [${N}], "data": [${data}]}]}`);
}

const floats = Array.from({ length: N }, (_, i) => Math.fround(Math.sin(i) * 100));
const cases: [string, Uint8Array][] = [
  ['FP32 plain', body('FP32', floats.join(','))],
  ['FP32 with NaN tokens (1 in 1000)', body('FP32', floats.map((v, i) => (i % 1000 === 999 ? 'NaN' : String(v))).join(','))],
  ['INT64 within ±2^53', body('INT64', Array.from({ length: N }, (_, i) => 1_000_000_007 * i).join(','))],
  ['INT64 beyond ±2^53', body('INT64', Array.from({ length: N }, (_, i) => (2n ** 62n + BigInt(i)).toString()).join(','))],
  ['INT64 beyond ±2^53, decimal strings', body('INT64', Array.from({ length: N }, (_, i) => `"${(2n ** 62n + BigInt(i)).toString()}"`).join(','))],
];

const best = (fn: () => void): number => {
  let min = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
};

console.log(`node ${process.version}, ${N} elements, best of ${RUNS} runs (ms)`);
for (const [name, bytes] of cases) {
  const text = new TextDecoder().decode(bytes);
  const parse = best(() => {
    try {
      JSON.parse(text);
    } catch {
      // the NaN case: JSON.parse alone cannot read it
    }
  });
  const decode = best(() => decodeInferRequest(bytes, null, 'm', null, 0));
  console.log(`${name.padEnd(34)} JSON.parse ${parse.toFixed(2)}   decodeInferRequest ${decode.toFixed(2)}`);
}
