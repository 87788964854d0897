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

/** Views the bytes of `buf` as the datatype's typed array (no copy unless misaligned). */
export function viewBytes(dt: Datatype, buf: Uint8Array): NumericArray {
  const info = INFO[dt];
  if (info.ctor === null) throw new TypeError('viewBytes: BYTES has no fixed-size view');
  if (buf.byteLength % info.size !== 0) throw new RangeError(`viewBytes: ${buf.byteLength} bytes is not a whole number of ${dt} elements`);
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

/**
 * BYTES elements one request may hold, all its tensors together: each decoded element is an
 * object of its own (~110 B of heap even when empty), so 16 million of them in a 64 MB body
 * cost ~2 GB before any model check, and this bounds one request's to ~115 MB. Well above
 * what a serving request sends.
 */
export const MAX_BYTES_ELEMENTS = 1 << 20;

/** `[1,16]`; a shape of more than 16 dims (only a bad request has one) is shown by its first 16 and its rank. */
export function shapeToString(shape: readonly number[]): string {
  if (shape.length > 16) return `[${shape.slice(0, 16).join(',')},… (${shape.length} dims)]`;
  return `[${shape.join(',')}]`;
}

/**
 * IEEE-754 binary16 bits from a JS number, rounded to nearest even straight from float64
 * (going through float32 first would round twice).
 */
export function toHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs >= 65520) return sign | 0x7c00; // rounds past the largest half (65504) → Inf
  if (abs < 2 ** -14) {
    // subnormal: a multiple of 2^-24; scaling by a power of two is exact in float64
    return sign | roundHalfEven(abs * 2 ** 24); // may round up to 0x400, the smallest normal
  }
  let e = Math.floor(Math.log2(abs));
  if (2 ** e > abs) e--; // log2 may be off by one next to powers of two
  else if (2 ** (e + 1) <= abs) e++;
  let m = roundHalfEven((abs / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
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

