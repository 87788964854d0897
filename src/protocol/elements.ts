/**
 * JSON tensor data → tensor storage, per datatype.
 *
 * Each datatype has an ElementCodec that converts one parsed JSON value (a leaf of the
 * possibly nested `data` array) into its storage slot, and a fast loop for the common case
 * of a flat array of plain numbers that fills the typed array in one pass with a typeof
 * check and no intermediate array. Anything the fast loop does not take (strings such as
 * "NaN", nested arrays, bad values) falls to the per-element path, which names the element.
 */
import { type Datatype, GatewayError, type NumericArray, type TensorData, elementCount, shapeToString, toHalf } from '../core/index.js';
import { describeValue, invalid, isObject } from './json-text.js';

/** How BYTES elements are written in JSON. */
export type BytesEncoding =
  /** JSON strings, taken as UTF-8 (v2 default) */
  | 'utf8'
  /** base64 strings (v2 tensor parameter `"content_type": "base64"`) */
  | 'base64'
  /** TF-Serving: UTF-8 strings or `{"b64": "<base64>"}` objects (v1 `:predict`) */
  | 'tf';

/** Scratch storage a codec fills; `finish` turns it into the tensor's data. */
type Slots = NumericArray | unknown[];

interface ElementCodec {
  /** what a valid element looks like, for messages: `a number (FP32)` */
  readonly expected: string;
  alloc(count: number): Slots;
  /** stores `v` at `i`; false when `v` is not a valid element */
  set(out: Slots, i: number, v: unknown): boolean;
  /** fills `out[i..n)` from a flat array while elements are plain numbers; returns where it stopped */
  fill(out: Slots, src: unknown[], i: number, n: number): number;
  finish(out: Slots): TensorData;
}

const identity = (out: Slots): TensorData => out as NumericArray;
const noFastFill = (_out: Slots, _src: unknown[], i: number): number => i;

function specialFloat(v: unknown): number | null {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return null;
}

function floatCodec(dt: 'FP32' | 'FP64'): ElementCodec {
  return {
    expected: `a number (${dt})`,
    alloc: (n) => (dt === 'FP32' ? new Float32Array(n) : new Float64Array(n)),
    set(out, i, v) {
      const x = typeof v === 'number' ? v : specialFloat(v);
      if (x === null) return false;
      (out as Float32Array)[i] = x;
      return true;
    },
    fill(out, src, i, n) {
      const a = out as Float32Array | Float64Array;
      for (; i < n; i++) {
        const v = src[i];
        if (typeof v !== 'number') return i;
        a[i] = v;
      }
      return n;
    },
    finish: identity,
  };
}

const fp16Codec: ElementCodec = {
  expected: 'a number (FP16)',
  alloc: (n) => new Uint16Array(n),
  set(out, i, v) {
    const x = typeof v === 'number' ? v : specialFloat(v);
    if (x === null) return false;
    (out as Uint16Array)[i] = toHalf(x);
    return true;
  },
  fill(out, src, i, n) {
    const a = out as Uint16Array;
    for (; i < n; i++) {
      const v = src[i];
      if (typeof v !== 'number') return i;
      a[i] = toHalf(v);
    }
    return n;
  },
  finish: identity,
};

function intCodec(dt: Datatype, lo: number, hi: number, ctor: new (n: number) => NumericArray): ElementCodec {
  const ok = (v: unknown): v is number => typeof v === 'number' && v >= lo && v <= hi && Number.isInteger(v);
  return {
    expected: `an integer in [${lo}, ${hi}] (${dt})`,
    alloc: (n) => new ctor(n),
    set(out, i, v) {
      if (!ok(v)) return false;
      (out as Int32Array)[i] = v;
      return true;
    },
    fill(out, src, i, n) {
      const a = out as Int32Array;
      for (; i < n; i++) {
        const v = src[i];
        if (!ok(v)) return i;
        a[i] = v;
      }
      return n;
    },
    finish: identity,
  };
}

const DECIMAL = /^-?[0-9]+$/;

/**
 * INT64/UINT64. A JSON number beyond ±(2^53 - 1) has lost its low digits in JSON.parse, so
 * this codec never stores one: decodeJsonData then decodes the input again from its
 * ExactSource, where such numbers are decimal strings with every digit (as Triton reads them,
 * exactly), and without a source refuses it (silently serving a different id is worse than
 * an error). Decimal strings are taken as well. Cost (bench/micro/json-numbers.ts, Node 20,
 * 100k elements, decodeInferRequest): INT64 within ±2^53 6 ms; beyond it, as JSON numbers
 * 41 ms (parsed twice, the second time with the long integers quoted), as strings 12 ms.
 */
function bigCodec(dt: 'INT64' | 'UINT64'): ElementCodec {
  const signed = dt === 'INT64';
  const lo = signed ? -(2n ** 63n) : 0n;
  const hi = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  const loN = signed ? Number.MIN_SAFE_INTEGER : 0;
  const set = (out: Slots, i: number, v: unknown): boolean => {
    let b: bigint;
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < loN) return false;
      b = BigInt(v);
    } else if (typeof v === 'string' && DECIMAL.test(v)) {
      b = BigInt(v);
      if (b < lo || b > hi) return false;
    } else {
      return false;
    }
    (out as BigInt64Array)[i] = b;
    return true;
  };
  return {
    expected: `an integer in [${lo}, ${hi}] (${dt})`,
    alloc: (n) => (signed ? new BigInt64Array(n) : new BigUint64Array(n)),
    set,
    fill(out, src, i, n) {
      const a = out as BigInt64Array;
      for (; i < n; i++) {
        const v = src[i];
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < loN) return i;
        a[i] = BigInt(v);
      }
      return n;
    },
    finish: identity,
  };
}

const boolCodec: ElementCodec = {
  expected: 'true or false (BOOL)',
  alloc: (n) => new Uint8Array(n),
  set(out, i, v) {
    if (v === true || v === 1) (out as Uint8Array)[i] = 1;
    else if (v === false || v === 0) (out as Uint8Array)[i] = 0;
    else return false;
    return true;
  },
  fill(out, src, i, n) {
    const a = out as Uint8Array;
    for (; i < n; i++) {
      const v = src[i];
      if (v === true) a[i] = 1;
      else if (v === false) a[i] = 0;
      else return i;
    }
    return n;
  },
  finish: identity,
};

interface B64 {
  readonly b64: string;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * BYTES elements are collected as their JSON values first, then encoded into one
 * ArrayBuffer for the whole tensor (each element a view of it), which a worker transfer can
 * move as one piece. test/protocol/json-codec.bench.ts, 100k short strings, best run: one
 * buffer + Buffer#write 15 ms, TextEncoder#encode per element 66 ms, Buffer.from per element
 * 9 ms (but its pooled slabs cannot be transferred).
 */
function bytesCodec(enc: BytesEncoding): ElementCodec {
  const textEncoding: BufferEncoding = enc === 'base64' ? 'base64' : 'utf8';
  // set() keeps the validated JSON value (a string, or a {"b64"} object for 'tf'); finish() encodes
  return {
    expected:
      enc === 'base64'
        ? 'a base64 string (BYTES, content_type base64)'
        : enc === 'tf'
          ? 'a string or {"b64": "<base64>"} (BYTES)'
          : 'a string (BYTES)',
    alloc: (n) => new Array<unknown>(n),
    set(out, i, v) {
      if (typeof v === 'string') {
        if (enc === 'base64' && !BASE64.test(v)) return false;
      } else if (!(enc === 'tf' && isObject(v) && typeof v.b64 === 'string' && BASE64.test(v.b64))) {
        return false;
      }
      (out as unknown[])[i] = v;
      return true;
    },
    fill: noFastFill,
    finish(out) {
      const vals = out as unknown[];
      let total = 0;
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i];
        total += typeof v === 'string' ? Buffer.byteLength(v, textEncoding) : Buffer.byteLength((v as B64).b64, 'base64');
      }
      const buf = Buffer.allocUnsafeSlow(total);
      const data = new Array<Uint8Array>(vals.length);
      let off = 0;
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i];
        const n = typeof v === 'string' ? buf.write(v, off, textEncoding) : buf.write((v as B64).b64, off, 'base64');
        data[i] = new Uint8Array(buf.buffer, buf.byteOffset + off, n);
        off += n;
      }
      return data;
    },
  };
}

const CODECS: Readonly<Record<Exclude<Datatype, 'BYTES'>, ElementCodec>> = {
  BOOL: boolCodec,
  UINT8: intCodec('UINT8', 0, 0xff, Uint8Array),
  UINT16: intCodec('UINT16', 0, 0xffff, Uint16Array),
  UINT32: intCodec('UINT32', 0, 0xffffffff, Uint32Array),
  UINT64: bigCodec('UINT64'),
  INT8: intCodec('INT8', -0x80, 0x7f, Int8Array),
  INT16: intCodec('INT16', -0x8000, 0x7fff, Int16Array),
  INT32: intCodec('INT32', -0x80000000, 0x7fffffff, Int32Array),
  INT64: bigCodec('INT64'),
  FP16: fp16Codec,
  FP32: floatCodec('FP32'),
  FP64: floatCodec('FP64'),
};
const BYTES_CODECS: Readonly<Record<BytesEncoding, ElementCodec>> = {
  utf8: bytesCodec('utf8'),
  base64: bytesCodec('base64'),
  tf: bytesCodec('tf'),
};

function codecFor(dt: Datatype, enc: BytesEncoding): ElementCodec {
  return dt === 'BYTES' ? BYTES_CODECS[enc] : CODECS[dt];
}

/** Deepest nesting of `data` accepted; far beyond any real tensor rank, it bounds recursion. */
export const MAX_DEPTH = 64;

function countLeaves(label: string, v: unknown[], depth: number): number {
  if (depth > MAX_DEPTH) throw invalid(`${label}: data is nested deeper than ${MAX_DEPTH} levels`);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    n += Array.isArray(x) ? countLeaves(label, x, depth + 1) : 1;
  }
  return n;
}

/** An integer element JSON.parse could not hold exactly (beyond ±2^53); see decodeJsonData. */
class LossyInteger extends GatewayError {}

function elementError(label: string, i: number, v: unknown, codec: ElementCodec): Error {
  // within the type's range as far as the rounded double can tell (2^63 - 1 parses as 2^63)
  const lossy =
    typeof v === 'number' &&
    Number.isInteger(v) &&
    !Number.isSafeInteger(v) &&
    ((codec === CODECS.INT64 && v >= -(2 ** 63) && v <= 2 ** 63) || (codec === CODECS.UINT64 && v > 0 && v <= 2 ** 64));
  if (!lossy) return invalid(`${label}: element ${i} is ${describeValue(v)}, expected ${codec.expected}`);
  return new LossyInteger(
    'SY_ERR_INVALID_INPUT',
    `${label}: element ${i} is a number beyond ±${Number.MAX_SAFE_INTEGER} that this endpoint cannot read exactly; send it as a decimal string ("${describeValue(v)}" would be rounded)`,
  );
}

/**
 * The `data` of input `index` parsed again so that integers of 16+ digits are decimal strings
 * (json-text.ts parseJsonExactIntegers); asked for only when an INT64/UINT64 input has a
 * number JSON.parse rounded.
 */
export interface ExactSource {
  exactData(index: number): unknown;
}

/** Stores the leaves of `v` from `out[i]` on; returns the index after the last. */
function fillNested(label: string, codec: ElementCodec, out: Slots, v: unknown[], i: number): number {
  for (let k = 0; k < v.length; k++) {
    const x = v[k];
    if (Array.isArray(x)) i = fillNested(label, codec, out, x, i);
    else if (codec.set(out, i, x)) i++;
    else throw elementError(label, i, x, codec);
  }
  return i;
}

/**
 * Converts v2 JSON `data` (flat or nested row-major, any nesting) into storage for a tensor
 * of `shape`. `label` starts every error message (`input "x"`). INT64/UINT64 numbers beyond
 * ±2^53 are read again, exactly, from `exact` (input `index` of the request) when given.
 * The common path pays nothing for this: the second decode happens only after the first
 * met such a number.
 */
export function decodeJsonData(
  label: string,
  dt: Datatype,
  shape: readonly number[],
  data: unknown,
  enc: BytesEncoding,
  exact: ExactSource | null = null,
  index = 0,
): TensorData {
  try {
    return decodeData(label, dt, shape, data, enc);
  } catch (e) {
    if (!(e instanceof LossyInteger) || exact === null) throw e;
    return decodeData(label, dt, shape, exact.exactData(index), enc);
  }
}

function decodeData(label: string, dt: Datatype, shape: readonly number[], data: unknown, enc: BytesEncoding): TensorData {
  if (!Array.isArray(data)) {
    throw invalid(`${label}: "data" must be an array of ${dt} elements, got ${describeValue(data)}`);
  }
  const count = elementCount(shape);
  const codec = codecFor(dt, enc);
  if (data.length === count) {
    // flat fast path: a nested element sends the whole tensor to the nested path below
    const out = codec.alloc(count);
    let i = codec.fill(out, data, 0, count);
    while (i < count) {
      const v: unknown = data[i];
      if (Array.isArray(v)) break;
      if (!codec.set(out, i, v)) throw elementError(label, i, v, codec);
      i = codec.fill(out, data, i + 1, count);
    }
    if (i === count) return codec.finish(out);
  }
  const leaves = countLeaves(label, data, 1);
  if (leaves !== count) {
    throw invalid(`${label}: data has ${leaves} elements but shape ${shapeToString(shape)} needs ${count}`);
  }
  const out = codec.alloc(count);
  fillNested(label, codec, out, data, 0);
  return codec.finish(out);
}

/**
 * Row-wise filling for the v1 shim: the caller allocates once for all rows, stores each
 * row's leaves with `fillRow`, then calls `finish`.
 */
export class RowFiller {
  private readonly codec: ElementCodec;
  private readonly out: Slots;

  constructor(dt: Datatype, count: number, enc: BytesEncoding) {
    this.codec = codecFor(dt, enc);
    this.out = this.codec.alloc(count);
  }

  /** Stores one leaf at flat index `i`; `label` and `k` (index within the row) name it in errors. */
  set(label: string, i: number, k: number, v: unknown): void {
    if (!this.codec.set(this.out, i, v)) throw elementError(label, k, v, this.codec);
  }

  finish(): TensorData {
    return this.codec.finish(this.out);
  }
}
