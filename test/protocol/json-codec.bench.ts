/**
 * Microbenchmarks behind the choices in src/protocol/json-values.ts and elements.ts.
 * Run: npx vitest bench --run test/protocol/json-codec.bench.ts
 */
import { bench, describe } from 'vitest';
import { InferRequest, InferResponse, Tensor } from '../../src/core/index.js';
import { decodeInferRequest, encodeInferResponse } from '../../src/protocol/index.js';

const N = 100_000;
const f32 = Float32Array.from({ length: N }, () => Math.random() * 100 - 50);
const i64 = BigInt64Array.from({ length: N }, () => BigInt(Math.floor(Math.random() * 1e9) - 5e8));
const i32 = Int32Array.from({ length: N }, () => (Math.random() * 1e6) | 0);

function special(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0 || (v === 0 && 1 / v < 0)) return true;
  }
  return false;
}

describe('FP32 100k elements → JSON array text', () => {
  bench('push into a plain array + JSON.stringify (used)', () => {
    const out: number[] = [];
    for (let i = 0; i < f32.length; i++) {
      const v = f32[i];
      if (v - v !== 0 || (v === 0 && 1 / v < 0)) throw new Error('special');
      out.push(v);
    }
    JSON.stringify(out);
  });
  bench('check + Float32Array#join', () => {
    if (special(f32)) throw new Error('special');
    void ('[' + f32.join(',') + ']');
  });
  bench('check + JSON.stringify(Array.from)', () => {
    if (special(f32)) throw new Error('special');
    JSON.stringify(Array.from(f32));
  });
  bench('string concatenation', () => {
    let s = '[';
    for (let i = 0; i < f32.length; i++) s += (i > 0 ? ',' : '') + f32[i];
    void (s + ']');
  });
});

describe('INT64 100k elements (within ±2^53) → JSON array text', () => {
  bench('32-bit halves into a plain array + JSON.stringify (used)', () => {
    const lo = new Uint32Array(i64.buffer);
    const hi = new Int32Array(i64.buffer);
    const out: number[] = [];
    for (let i = 0; i < i64.length; i++) out.push(hi[2 * i + 1] * 4294967296 + lo[2 * i]);
    JSON.stringify(out);
  });
  bench('Number(bigint) into a plain array + JSON.stringify', () => {
    const out: number[] = [];
    for (let i = 0; i < i64.length; i++) out.push(Number(i64[i]));
    JSON.stringify(out);
  });
  bench('BigInt64Array#join', () => {
    void ('[' + i64.join(',') + ']');
  });
});

const u8 = Uint8Array.from({ length: N }, () => (Math.random() * 256) | 0);

function pushStringify(a: Int32Array | Uint8Array): string {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) out.push(a[i]);
  return JSON.stringify(out);
}

describe('INT32 100k elements → JSON array text', () => {
  bench('push into a plain array + JSON.stringify (used)', () => {
    pushStringify(i32);
  });
  bench('Int32Array#join', () => {
    void ('[' + i32.join(',') + ']');
  });
  bench('JSON.stringify(Array.from)', () => {
    JSON.stringify(Array.from(i32));
  });
});

describe('UINT8 100k elements → JSON array text', () => {
  bench('push into a plain array + JSON.stringify (used)', () => {
    pushStringify(u8);
  });
  bench('Uint8Array#join', () => {
    void ('[' + u8.join(',') + ']');
  });
});

const strs = Array.from({ length: N }, (_, i) => 'hello world ' + i);
const enc = new TextEncoder();

describe('BYTES 100k short JSON strings → element bytes', () => {
  bench('one buffer for the tensor + Buffer#write (used)', () => {
    let total = 0;
    for (const s of strs) total += Buffer.byteLength(s, 'utf8');
    const buf = Buffer.allocUnsafeSlow(total);
    const out: Uint8Array[] = [];
    let off = 0;
    for (const s of strs) {
      const n = buf.write(s, off, 'utf8');
      out.push(new Uint8Array(buf.buffer, buf.byteOffset + off, n));
      off += n;
    }
  });
  bench('TextEncoder#encode per element', () => {
    for (const s of strs) enc.encode(s);
  });
  bench('Buffer.from per element (pooled: buffers not transferable)', () => {
    for (const s of strs) Buffer.from(s, 'utf8');
  });
});

describe('v2 codec, FP32 [1, 100000]', () => {
  const body = new TextEncoder().encode(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, N], data: Array.from(f32) }] }));
  const text = new TextDecoder().decode(body);
  const req = new InferRequest('m', null, [], 'rest', 0);
  const resp = new InferResponse('r', 'm', '1', [new Tensor('y', 'FP32', [1, N], f32)]);
  bench('JSON.parse alone (floor for decoding)', () => {
    JSON.parse(text);
  });
  bench('decodeInferRequest', () => {
    decodeInferRequest(body, null, 'm', null, 0);
  });
  bench('encodeInferResponse', () => {
    encodeInferResponse(resp, req);
  });
});
