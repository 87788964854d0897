import { toHalf, type Datatype, type NumericArray } from '../core/index.js';
import type { RowValues } from './row.js';

/**
 * Copies a row's values into the filled tensor's storage at `at`, converting from the view's
 * datatype to the model input's: same family (numbers or bigints) by TypedArray.set (integer
 * targets truncate and wrap as typed arrays do), FP16 to half bits, BOOL to 0/1, numbers to
 * bigints by truncation (non-finite → 0), bigints to numbers.
 */
export function writeRow(out: NumericArray, at: number, values: RowValues, dtype: Datatype): void {
  const n = values.length;
  if (dtype === 'FP16') {
    for (let j = 0; j < n; j++) out[at + j] = toHalf(Number(values[j]));
    return;
  }
  if (dtype === 'BOOL') {
    for (let j = 0; j < n; j++) out[at + j] = Number(values[j]) !== 0 ? 1 : 0;
    return;
  }
  const outBig = out instanceof BigInt64Array || out instanceof BigUint64Array;
  const inBig = !(values instanceof Float64Array);
  if (outBig === inBig) {
    // both numbers or both bigints: TypedArray.set converts element-wise
    (out as Float64Array).set(values as Float64Array, at);
    return;
  }
  if (outBig) {
    const big = out as BigInt64Array;
    for (let j = 0; j < n; j++) {
      const v = values[j] as number;
      big[at + j] = Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
    }
    return;
  }
  for (let j = 0; j < n; j++) out[at + j] = Number(values[j]);
}
