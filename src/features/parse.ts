import type { FeatureDtype } from '../config/index.js';

/**
 * Parsing feature values to a view's datatype. A value is a string (Redis hash values, CSV
 * cells), a number or boolean (JSON lines, Feast protobuf) or a bigint (Feast int64).
 * Results are numbers, or bigints for INT64/UINT64; null means "unparsable" (not a number,
 * not an integer for an integer type, out of the type's range). No allocation beyond the
 * trimmed string.
 */
export type FeatureScalar = number | bigint;

const INT_RANGES: Readonly<Partial<Record<FeatureDtype, readonly [number, number]>>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const INTEGER_TEXT = /^[+-]?\d+$/;

/** True when the dtype's values are held as bigints (INT64, UINT64). */
export function isBigIntDtype(dtype: FeatureDtype): boolean {
  return dtype === 'INT64' || dtype === 'UINT64';
}

/** The value as the dtype, or null when it does not parse or does not fit. */
export function parseFeature(dtype: FeatureDtype, value: string | number | bigint | boolean): FeatureScalar | null {
  switch (typeof value) {
    case 'string':
      return parseText(dtype, value.trim());
    case 'number':
      return fromNumber(dtype, value);
    case 'bigint':
      return fromBigInt(dtype, value);
    case 'boolean':
      return isBigIntDtype(dtype) ? (value ? 1n : 0n) : value ? 1 : 0;
  }
}

function parseText(dtype: FeatureDtype, text: string): FeatureScalar | null {
  if (text === '') return null;
  if (dtype === 'BOOL') {
    const lower = text.toLowerCase();
    if (lower === 'true' || lower === '1') return 1;
    if (lower === 'false' || lower === '0') return 0;
    return null;
  }
  if (isBigIntDtype(dtype)) {
    if (INTEGER_TEXT.test(text)) return fromBigInt(dtype, BigInt(text));
    const n = Number(text); // "3.0", "1e3"
    return Number.isNaN(n) ? null : fromNumber(dtype, n);
  }
  const n = Number(text);
  // Number('0x10') is 16 and Number(' ') is 0: accept decimal notation only
  if (Number.isNaN(n) || /^[+-]?0[xXoObB]/.test(text)) return null;
  return fromNumber(dtype, n);
}

function fromNumber(dtype: FeatureDtype, n: number): FeatureScalar | null {
  switch (dtype) {
    case 'FP64':
    case 'FP16':
      return Number.isNaN(n) ? null : n;
    case 'FP32':
      return Number.isNaN(n) ? null : Math.fround(n);
    case 'BOOL':
      return n === 0 || n === 1 ? n : null;
    case 'INT64':
    case 'UINT64':
      return Number.isInteger(n) ? fromBigInt(dtype, BigInt(n)) : null;
    default: {
      const range = INT_RANGES[dtype]!;
      return Number.isInteger(n) && n >= range[0] && n <= range[1] ? n : null;
    }
  }
}

function fromBigInt(dtype: FeatureDtype, b: bigint): FeatureScalar | null {
  if (dtype === 'INT64') return b >= INT64_MIN && b <= INT64_MAX ? b : null;
  if (dtype === 'UINT64') return b >= 0n && b <= UINT64_MAX ? b : null;
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) {
    return dtype === 'FP32' || dtype === 'FP64' || dtype === 'FP16' ? fromNumber(dtype, Number(b)) : null;
  }
  return fromNumber(dtype, Number(b));
}
