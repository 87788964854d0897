/**
 * Comparing a shadow's outputs with the primary's, output by output (matched by name):
 *   classifier-like outputs (float, 2-D [n, k > 1]): does each row's argmax agree?
 *   every numeric output: the largest absolute difference of two elements
 * Outputs missing on either side, or of different datatype or shape, make a mismatch
 * (the shadow does not answer like the primary at all).
 */
import { fromHalf, type Datatype, type TensorData } from '../../core/datatypes.js';
import type { Tensor } from '../../core/tensor.js';

export class ShadowComparison {
  /** rows compared by argmax (0 when no output is classifier-like) */
  rows: number;
  /** of those, rows whose argmax agreed */
  agreeingRows: number;
  /** the largest absolute difference over every numeric element (0 when there was none) */
  maxAbsDiff: number;
  /** why the outputs could not be compared, or null */
  mismatch: string | null;

  constructor() {
    this.rows = 0;
    this.agreeingRows = 0;
    this.maxAbsDiff = 0;
    this.mismatch = null;
  }

  /** argmax agreement over every row, or null without classifier-like outputs */
  get agree(): boolean | null {
    if (this.mismatch !== null) return false;
    return this.rows === 0 ? null : this.agreeingRows === this.rows;
  }
}

const FLOATS: ReadonlySet<Datatype> = new Set(['FP16', 'FP32', 'FP64']);

function isClassifierLike(t: Tensor): boolean {
  return FLOATS.has(t.datatype) && t.shape.length === 2 && t.shape[1] > 1;
}

function element(datatype: Datatype, data: TensorData, i: number): number {
  const v = (data as ArrayLike<number | bigint>)[i];
  if (datatype === 'FP16') return fromHalf(v as number);
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function argmaxRow(t: Tensor, row: number, k: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let j = 0; j < k; j++) {
    const v = element(t.datatype, t.data, row * k + j);
    if (v > bestValue) {
      bestValue = v;
      best = j;
    }
  }
  return best;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Compares the outputs of a primary and its shadow (neither is changed). */
export function compareOutputs(primary: readonly Tensor[], shadow: readonly Tensor[]): ShadowComparison {
  const out = new ShadowComparison();
  for (const p of primary) {
    const s = shadow.find((t) => t.name === p.name);
    if (s === undefined) {
      out.mismatch = `the shadow has no output "${p.name}"`;
      return out;
    }
    if (s.datatype !== p.datatype || !sameShape(s.shape, p.shape)) {
      out.mismatch = `output "${p.name}" differs in datatype or shape`;
      return out;
    }
    if (p.datatype === 'BYTES') {
      const pa = p.data as Uint8Array[];
      const sa = s.data as Uint8Array[];
      if (!pa.every((v, i) => bytesEqual(v, sa[i]))) out.maxAbsDiff = Infinity;
      continue;
    }
    const count = (p.data as ArrayLike<unknown>).length;
    for (let i = 0; i < count; i++) {
      const a = element(p.datatype, p.data, i);
      const b = element(s.datatype, s.data, i);
      // NaN on both sides agrees; on one side it is as far off as can be
      const d = a === b || (Number.isNaN(a) && Number.isNaN(b)) ? 0 : Number.isNaN(a) || Number.isNaN(b) ? Infinity : Math.abs(a - b);
      if (d > out.maxAbsDiff) out.maxAbsDiff = d;
    }
    if (isClassifierLike(p)) {
      const [n, k] = p.shape;
      for (let r = 0; r < n; r++) {
        out.rows++;
        if (argmaxRow(p, r, k) === argmaxRow(s, r, k)) out.agreeingRows++;
      }
    }
  }
  if (shadow.length !== primary.length && out.mismatch === null) {
    const extra = shadow.find((s) => !primary.some((p) => p.name === s.name));
    if (extra !== undefined) out.mismatch = `the shadow has an extra output "${extra.name}"`;
  }
  return out;
}
