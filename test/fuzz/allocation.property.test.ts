/**
 * No request decoder holds more than a small multiple of its input (issue 14): for generated
 * requests built to amplify (many empty elements, inputs, parameters, dims, outputs), the heap
 * and ArrayBuffer memory still held after a full GC, with the decoded request alive, grows by
 * at most K × the input's bytes + C.
 *
 * K, measured (Node 20, x64, heapUsed + arrayBuffers after gc; test/fuzz/README.md):
 * - a BYTES element is a Uint8Array view of its own, ~106 B of heap even when empty (~123 B
 *   from gRPC typed contents, with the decoded message's array slot), and costs the client as
 *   little as 2 bytes (an empty bytes_contents entry): measured up to 62× (REST JSON `"",`,
 *   3 bytes: ~35×; binary 4-byte lengths: ~28×). Requests with BYTES inputs: K = 80. The
 *   absolute bound is the per-request cap of 2^20 BYTES elements (~130 MB).
 * - everything else: numeric data at most 8× (a 1-byte JSON digit or varint becoming an
 *   8-byte INT64 / FP64 slot), JSON inputs ~6×, parameters ~8×. K = 16.
 * C = 1 MiB covers what a count cap bounds rather than the bytes: up to 1024 gRPC inputs
 * (MAX_TENSORS) of ~300-500 B each (the InferInputTensor message, its Tensor, an empty typed
 * array) from ~17 wire bytes each; and the ~250 KB that two GCs leave uncertain.
 *
 * Peaks while decoding (JSON.parse's intermediate values, protobuf's arrays before they are
 * copied into typed arrays) are not measured here: the fuzz children run with a 384 MB heap
 * (run.ts), and the regressions of 16M-element and 30M-input requests are replayed in them.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/index.js';
import { grpcInfer, joinBinaryInput, restBinary, restJson, type FuzzTarget } from './targets.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const K_BYTES = 80;
const K = 16;
const C = 1024 * 1024;

interface Case {
  input: Uint8Array;
  bytes: boolean;
  what: string;
}

/** Memory held because of `decode(input)`: heapUsed + arrayBuffers after GC, with the result alive. */
function held(target: FuzzTarget, input: Uint8Array): { grown: number; outcome: string } {
  gc();
  gc();
  const m0 = process.memoryUsage();
  let result: unknown;
  let outcome = 'decoded';
  try {
    result = target.run(input);
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    outcome = `refused: ${e.message.slice(0, 80)}`;
  }
  gc();
  gc();
  const m1 = process.memoryUsage();
  // keeps the result alive until after the second measurement
  if (result === Symbol.for('never')) throw new Error('unreachable');
  return { grown: m1.heapUsed + m1.arrayBuffers - (m0.heapUsed + m0.arrayBuffers), outcome };
}

function checkBound(target: FuzzTarget, c: Case): void {
  const { grown, outcome } = held(target, c.input);
  const k = c.bytes ? K_BYTES : K;
  const bound = k * c.input.byteLength + C;
  if (process.env.FUZZ_VERBOSE) console.log(`${target.name} ${c.what}: ${c.input.byteLength} B in, ${grown} B held (${(grown / c.input.byteLength).toFixed(1)}×), ${outcome}`);
  expect(grown, `${target.name}, ${c.what}: ${c.input.byteLength} input bytes held ${grown} bytes after decoding (${outcome}); the bound is ${k}× + ${C}`).toBeLessThanOrEqual(bound);
}

const enc = (s: string) => Buffer.from(s);
const list = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(',');

const NUMERIC = ['BOOL', 'UINT8', 'INT8', 'INT16', 'UINT32', 'INT32', 'INT64', 'UINT64', 'FP16', 'FP32', 'FP64'] as const;

const count = fc.integer({ min: 5_000, max: 30_000 });

const restJsonCase: fc.Arbitrary<Case> = fc.oneof(
  count.map((n) => ({ bytes: true, what: `${n} empty BYTES strings`, input: enc(`{"inputs":[{"name":"s","datatype":"BYTES","shape":[${n}],"data":[${list(n, () => '""')}]}]}`) })),
  fc.tuple(count, fc.constantFrom(...NUMERIC)).map(([n, dt]) => ({ bytes: false, what: `${n} ${dt} zeros`, input: enc(`{"inputs":[{"name":"x","datatype":"${dt}","shape":[${n}],"data":[${list(n, () => (dt === 'BOOL' ? 'false' : '0'))}]}]}`) })),
  fc.tuple(count, fc.constantFrom('FP32', 'FP64', 'FP16')).map(([n, dt]) => ({ bytes: false, what: `${n} nested ${dt} "NaN"`, input: enc(`{"inputs":[{"name":"x","datatype":"${dt}","shape":[${n},1],"data":[${list(n, () => '["NaN"]')}]}]}`) })),
  count.map((n) => ({ bytes: false, what: `${n} empty inputs`, input: enc(`{"inputs":[${list(n, (i) => `{"name":"i${i}","datatype":"FP32","shape":[0],"data":[]}`)}]}`) })),
  count.map((n) => ({ bytes: false, what: `${n} request parameters`, input: enc(`{"parameters":{${list(n, (i) => `"p${i}":${i}`)}},"inputs":[]}`) })),
  count.map((n) => ({ bytes: false, what: `${n} shape dims`, input: enc(`{"inputs":[{"name":"x","datatype":"FP32","shape":[${list(n, () => '1')}],"data":[1]}]}`) })),
  count.map((n) => ({ bytes: false, what: `${n} outputs`, input: enc(`{"inputs":[],"outputs":[${list(n, (i) => `{"name":"o${i}"}`)}]}`) })),
);

function binaryCase(inputs: unknown[], binary: Uint8Array, bytes: boolean, what: string): Case {
  return { bytes, what, input: joinBinaryInput(enc(JSON.stringify({ inputs })), binary) };
}

const restBinaryCase: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(count, fc.integer({ min: 1, max: 8 })).map(([n, k]) =>
    binaryCase(Array.from({ length: k }, (_, i) => ({ name: `s${i}`, datatype: 'BYTES', shape: [n], parameters: { binary_data_size: 4 * n } })), new Uint8Array(4 * n * k), true, `${k} tensors of ${n} empty BYTES`),
  ),
  fc.tuple(count, fc.constantFrom('FP32', 'FP64', 'INT64', 'INT16')).map(([n, dt]) => {
    const size = dt === 'INT16' ? 2 : dt === 'FP32' ? 4 : 8;
    // a 1-byte UINT8 input first misaligns the next: copied, not viewed
    return binaryCase([{ name: 'u', datatype: 'UINT8', shape: [1], parameters: { binary_data_size: 1 } }, { name: 'x', datatype: dt, shape: [n], parameters: { binary_data_size: n * size } }], new Uint8Array(1 + n * size), false, `${n} misaligned ${dt}`);
  }),
  count.map((n) => binaryCase(Array.from({ length: n }, (_, i) => ({ name: `u${i}`, datatype: 'UINT8', shape: [1], parameters: { binary_data_size: 1 } })), new Uint8Array(n), false, `${n} one-byte inputs`)),
);

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}
const field = (tag: number, payload: Uint8Array): Buffer => Buffer.concat([Buffer.from([tag, ...varint(payload.length)]), payload]);
const pattern = (bytes: number[], n: number): Buffer => Buffer.from(Array.from({ length: n }, () => bytes).flat());
/** ModelInferRequest { model_name "m", inputs: [ { name, datatype, shape [n], contents } ] } */
function grpcTyped(datatype: string, n: number, contents: Buffer): Uint8Array {
  const input = Buffer.concat([field(0x0a, enc('x')), field(0x12, enc(datatype)), field(0x1a, Buffer.from(varint(n))), field(0x2a, contents)]);
  return Buffer.concat([field(0x0a, enc('m')), field(0x2a, input)]);
}

const grpcCase: fc.Arbitrary<Case> = fc.oneof(
  count.map((n) => ({ bytes: true, what: `${n} empty bytes_contents`, input: grpcTyped('BYTES', n, pattern([0x42, 0x00], n)) })),
  fc.tuple(count, fc.constantFrom(['INT64', 0x1a], ['UINT64', 0x2a], ['INT32', 0x12], ['BOOL', 0x0a])).map(([n, [dt, tag]]) => ({ bytes: false, what: `${n} packed ${dt} zeros`, input: grpcTyped(dt, n, field(tag, Buffer.alloc(n))) })),
  count.map((n) => ({ bytes: false, what: `${n} FP64 contents`, input: grpcTyped('FP64', n, field(0x3a, Buffer.alloc(8 * n))) })),
  fc.integer({ min: 100, max: 1024 }).map((n) => ({ bytes: false, what: `${n} empty inputs`, input: Buffer.concat([field(0x0a, enc('m')), ...Array.from({ length: n }, (_, i) => field(0x2a, Buffer.concat([field(0x0a, enc(`i${i}`)), field(0x12, enc('FP32')), field(0x1a, Buffer.from([0]))])))]) })),
  fc.integer({ min: 100, max: 1024 }).map((n) => ({ bytes: true, what: `${n} raw BYTES entries of 64 empty elements`, input: Buffer.concat([field(0x0a, enc('m')), ...Array.from({ length: n }, (_, i) => field(0x2a, Buffer.concat([field(0x0a, enc(`s${i}`)), field(0x12, enc('BYTES')), field(0x1a, Buffer.from([64]))]))), ...Array.from({ length: n }, () => field(0x3a, Buffer.alloc(256)))]) })),
);

describe('decoders hold at most a small multiple of their input (property)', () => {
  it.each<[string, FuzzTarget, fc.Arbitrary<Case>]>([
    ['rest-json', restJson, restJsonCase],
    ['rest-binary', restBinary, restBinaryCase],
    ['grpc-infer', grpcInfer, grpcCase],
  ])('%s', (_name, target, cases) => {
    fc.assert(
      fc.property(cases, (c) => checkBound(target, c)),
      { numRuns: 12 },
    );
  });

  it('the measurement sees what a decoder holds: one that made 2^20 empty elements from a 3-byte shape fails the bound', () => {
    const fake: FuzzTarget = { name: 'unbounded', dictionary: [], run: () => Array.from({ length: 1 << 20 }, () => new Uint8Array(0)) };
    const { grown } = held(fake, Uint8Array.of(0x80, 0x80, 0x40));
    expect(grown).toBeGreaterThan(K_BYTES * 3 + C);
  });
});
