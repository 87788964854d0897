/**
 * KServe v2 / Open Inference Protocol datatypes and how each one is held in memory.
 *
 * Every tensor's `data` is a typed array of the datatype's storage class, except BYTES,
 * which is an array of Uint8Array (one per element). FP16 is held as raw IEEE-754 half
 * bits in a Uint16Array (what ONNX Runtime's `float16` tensors take).
 */

export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];

export type NumericArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** Element storage of a tensor: a typed array, or one byte string per element for BYTES. */
export type TensorData = NumericArray | Uint8Array[];

type TypedArrayCtor =
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

interface DatatypeInfo {
  /** bytes per element on the wire and in memory; 0 for BYTES (variable) */
  readonly size: number;
  readonly ctor: TypedArrayCtor | null;
  /** ONNX Runtime's tensor type name */
  readonly ort: string;
  /** ONNX TensorProto.DataType enum value */
  readonly onnx: number;
}

const INFO: Readonly<Record<Datatype, DatatypeInfo>> = Object.freeze({
  BOOL: { size: 1, ctor: Uint8Array, ort: 'bool', onnx: 9 },
  UINT8: { size: 1, ctor: Uint8Array, ort: 'uint8', onnx: 2 },
  UINT16: { size: 2, ctor: Uint16Array, ort: 'uint16', onnx: 4 },
  UINT32: { size: 4, ctor: Uint32Array, ort: 'uint32', onnx: 12 },
  UINT64: { size: 8, ctor: BigUint64Array, ort: 'uint64', onnx: 13 },
  INT8: { size: 1, ctor: Int8Array, ort: 'int8', onnx: 3 },
  INT16: { size: 2, ctor: Int16Array, ort: 'int16', onnx: 5 },
  INT32: { size: 4, ctor: Int32Array, ort: 'int32', onnx: 6 },
  INT64: { size: 8, ctor: BigInt64Array, ort: 'int64', onnx: 7 },
  FP16: { size: 2, ctor: Uint16Array, ort: 'float16', onnx: 10 },
  FP32: { size: 4, ctor: Float32Array, ort: 'float32', onnx: 1 },
  FP64: { size: 8, ctor: Float64Array, ort: 'float64', onnx: 11 },
  BYTES: { size: 0, ctor: null, ort: 'string', onnx: 8 },
});

const BY_ORT = new Map<string, Datatype>(DATATYPES.map((d) => [INFO[d].ort, d]));

export function isDatatype(s: unknown): s is Datatype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(INFO, s);
}

export function datatypeSize(dt: Datatype): number {
  return INFO[dt].size;
}

export function ortTypeOf(dt: Datatype): string {
  return INFO[dt].ort;
}

/** The v2 datatype of an ONNX Runtime tensor type, or null when v2 has none (e.g. complex). */
export function datatypeFromOrt(ort: string): Datatype | null {
  return BY_ORT.get(ort) ?? null;
}

/** Allocates zeroed storage for `count` elements. BYTES gets an array of empty strings. */
export function allocate(dt: Datatype, count: number): TensorData {
  const ctor = INFO[dt].ctor;
  if (ctor === null) return Array.from({ length: count }, () => new Uint8Array(0));
  return new ctor(count);
}

/** Views `byteLength` bytes of `buf` at `byteOffset` as the datatype's typed array, copying when misaligned. */
export function viewBytes(dt: Datatype, buf: Uint8Array): NumericArray {
  const info = INFO[dt];
  if (info.ctor === null) throw new TypeError('viewBytes: BYTES has no fixed-size view');
  const count = buf.byteLength / info.size;
  if (buf.byteOffset % info.size === 0) {
    return new info.ctor(buf.buffer as ArrayBuffer, buf.byteOffset, count);
  }
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new info.ctor(copy.buffer, 0, count);
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** IEEE-754 binary16 bits from a JS number (round to nearest even). */
export function toHalf(value: number): number {
  F32[0] = value;
  const x = U32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // a carry out of the mantissa rounds into the exponent, which is what IEEE wants
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** JS number from IEEE-754 binary16 bits. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
