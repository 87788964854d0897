/**
 * Tensor storage → JSON text of its elements.
 *
 * JSON has no literal for NaN or ±Infinity. They go as the strings "NaN", "Infinity",
 * "-Infinity" (`NonFinite` 'string': what JSON.parse clients can read, and what the decoder
 * accepts back), or as the bare tokens NaN, Infinity, -Infinity (`'token'`: what Triton's
 * RapidJSON writer emits and Python's json.loads reads; the decoder accepts them too).
 * -0 is written as -0.0. INT64/UINT64 go as
 * numbers, exact also beyond 2^53 (as Triton writes them). FP16 goes as its value, BOOL as
 * true/false, BYTES as UTF-8 strings (or base64 strings when asked).
 *
 * Measured with test/protocol/json-codec.bench.ts (Node 20, 100k random elements, best of
 * ~40 runs, ms): FP32 push into a plain array + JSON.stringify 10.9, JSON.stringify(Array.from)
 * 12.2, string concatenation 13.6, Float32Array#join 15.1; INT32 push 2.7, Array.from 3.7,
 * join 4.1; UINT8 push 2.5, join 2.7; INT64 (within ±2^53) from 32-bit halves 4.2,
 * Number(bigint) 4.4, join 6.0. V8's JSON.stringify has a fast path for arrays of plain
 * numbers, so every numeric path collects one and stringifies it. (An earlier run over 1M
 * FP32 elements in tensors of 10 gave the same order: push 135 ms, join 187, concat 190.)
 */
import { type Datatype, type NumericArray, type TensorData, fromHalf } from '../core/index.js';

const UTF8 = new TextDecoder();

/** How NaN and ±Infinity are written (see the top of this file). */
export type NonFinite = 'string' | 'token';

/** JSON text of one float; non-finite values as strings (or bare tokens), -0 kept. */
export function jsonFloat(v: number, nonFinite: NonFinite = 'string'): string {
  if (v !== v) return nonFinite === 'token' ? 'NaN' : '"NaN"';
  if (v === Infinity) return nonFinite === 'token' ? 'Infinity' : '"Infinity"';
  if (v === -Infinity) return nonFinite === 'token' ? '-Infinity' : '"-Infinity"';
  // "-0.0" as RapidJSON writes it: Python's json.loads reads "-0" as the integer 0, losing the sign
  if (v === 0 && 1 / v < 0) return '-0.0';
  return String(v);
}

function floats(a: Float32Array | Float64Array, start: number, end: number, nonFinite: NonFinite): string {
  const out: number[] = [];
  for (let i = start; i < end; i++) {
    const v = a[i];
    // NaN, ±Infinity and -0 cannot go through JSON.stringify as numbers
    if (v - v !== 0 || (v === 0 && 1 / v < 0)) return floatsSlow(a, start, end, nonFinite);
    out.push(v);
  }
  return JSON.stringify(out);
}

function floatsSlow(a: Float32Array | Float64Array, start: number, end: number, nonFinite: NonFinite): string {
  let s = '[';
  for (let i = start; i < end; i++) s += (i > start ? ',' : '') + jsonFloat(a[i], nonFinite);
  return s + ']';
}

function halves(a: Uint16Array, start: number, end: number, nonFinite: NonFinite): string {
  const out: number[] = [];
  for (let i = start; i < end; i++) {
    const h = a[i];
    // exponent all ones (Inf/NaN) or -0
    if ((h & 0x7c00) === 0x7c00 || h === 0x8000) return halvesSlow(a, start, end, nonFinite);
    out.push(fromHalf(h));
  }
  return JSON.stringify(out);
}

function halvesSlow(a: Uint16Array, start: number, end: number, nonFinite: NonFinite): string {
  let s = '[';
  for (let i = start; i < end; i++) s += (i > start ? ',' : '') + jsonFloat(fromHalf(a[i]), nonFinite);
  return s + ']';
}

function bools(a: Uint8Array, start: number, end: number): string {
  const out: boolean[] = [];
  for (let i = start; i < end; i++) out.push(a[i] !== 0);
  return JSON.stringify(out);
}

function ints(a: Exclude<NumericArray, BigInt64Array | BigUint64Array>, start: number, end: number): string {
  const out: number[] = [];
  for (let i = start; i < end; i++) out.push(a[i]);
  return JSON.stringify(out);
}

/** Exact digits of 64-bit integers beyond ±2^53. */
function bigDigits(a: BigInt64Array | BigUint64Array, start: number, end: number): string {
  const part = start === 0 && end === a.length ? a : a.subarray(start, end);
  return '[' + part.join(',') + ']';
}

/**
 * 64-bit integers: when every element is within ±2^53 (the high 32 bits say so) they are
 * built from their two 32-bit halves, which avoids a BigInt per element; otherwise join,
 * which writes every digit.
 */
function bigs(a: BigInt64Array | BigUint64Array, signed: boolean, start: number, end: number): string {
  const lo = new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
  const hi = signed ? new Int32Array(a.buffer, a.byteOffset, a.length * 2) : lo;
  const out: number[] = [];
  for (let i = start; i < end; i++) {
    const h = hi[2 * i + 1];
    if (h > 0x1fffff || h < -0x200000) return bigDigits(a, start, end);
    out.push(h * 4294967296 + lo[2 * i]);
  }
  return JSON.stringify(out);
}

function strings(a: Uint8Array[], start: number, end: number, base64: boolean): string {
  const out: string[] = [];
  for (let i = start; i < end; i++) {
    const e = a[i];
    out.push(base64 ? Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('base64') : UTF8.decode(e));
  }
  return JSON.stringify(out);
}

/** JSON array text of elements [start, end) of `data` (flat). */
export function jsonArray(dt: Datatype, data: TensorData, start: number, end: number, base64 = false, nonFinite: NonFinite = 'string'): string {
  switch (dt) {
    case 'FP32':
    case 'FP64':
      return floats(data as Float32Array, start, end, nonFinite);
    case 'FP16':
      return halves(data as Uint16Array, start, end, nonFinite);
    case 'BOOL':
      return bools(data as Uint8Array, start, end);
    case 'INT64':
      return bigs(data as BigInt64Array, true, start, end);
    case 'UINT64':
      return bigs(data as BigUint64Array, false, start, end);
    case 'BYTES':
      return strings(data as Uint8Array[], start, end, base64);
    default:
      return ints(data as Uint8Array, start, end);
  }
}

/** JSON text of element `i`. */
export function jsonElement(dt: Datatype, data: TensorData, i: number, base64 = false): string {
  switch (dt) {
    case 'FP32':
    case 'FP64':
      return jsonFloat((data as Float64Array)[i]);
    case 'FP16':
      return jsonFloat(fromHalf((data as Uint16Array)[i]));
    case 'BOOL':
      return (data as Uint8Array)[i] !== 0 ? 'true' : 'false';
    case 'BYTES': {
      const e = (data as Uint8Array[])[i];
      return JSON.stringify(base64 ? Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('base64') : UTF8.decode(e));
    }
    default:
      return String((data as NumericArray)[i]);
  }
}
