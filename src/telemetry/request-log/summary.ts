/**
 * What a request log record says about tensors: shapes of the inputs, a summary of each
 * output, and (for the sampled fraction) the full tensors as JSON-ready values.
 *
 * Everything here reads tensor data synchronously and keeps no reference to it: buffers
 * may be reused or transferred to a worker after the call.
 */
import { fromHalf, type Datatype, type Tensor } from '../../core/index.js';
import { TensorShape } from './record.js';

/** Outputs with at most this many elements are written out whole (`values`). */
export const SMALL_OUTPUT_ELEMENTS = 16;
/** Per-row summaries (argmax/score, or one value per row) cover at most this many rows. */
export const MAX_SUMMARY_ROWS = 1024;

/**
 * One output of a request, summarised:
 * - classifier-like (2-D floating point [rows, classes], classes >= 2): `argmax` and
 *   `score` (the largest value) per row;
 * - small (<= 16 elements) or one value per row ([rows] or [rows, 1]): `values`;
 * - otherwise only name, datatype and shape.
 */
export class OutputSummary {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** index of the largest value per row, or null */
  readonly argmax: number[] | null;
  /** the largest value per row, or null */
  readonly score: number[] | null;
  /** every element (row-major), or null */
  readonly values: number[] | null;

  constructor(name: string, datatype: Datatype, shape: readonly number[], argmax: number[] | null, score: number[] | null, values: number[] | null) {
    this.name = name;
    this.datatype = datatype;
    this.shape = shape;
    this.argmax = argmax;
    this.score = score;
    this.values = values;
  }

  /** JSON leaves out what was not computed. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, datatype: this.datatype, shape: this.shape };
    if (this.argmax !== null) out.argmax = this.argmax;
    if (this.score !== null) out.score = this.score;
    if (this.values !== null) out.values = this.values;
    return out;
  }
}

/** A whole tensor as plain JSON values (the Open Inference Protocol's tensor form). */
export interface TensorPayload {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: readonly (number | boolean | string)[];
}

const isFloat = (dt: Datatype): boolean => dt === 'FP32' || dt === 'FP64' || dt === 'FP16';

/** Element i of a numeric tensor as a JS number (FP16 decoded, 64-bit integers rounded). */
export function numberAt(t: Tensor, i: number): number {
  const v = (t.data as ArrayLike<number | bigint>)[i];
  if (t.datatype === 'FP16') return fromHalf(v as number);
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Summaries of a response's outputs (see OutputSummary). */
export function summariseOutputs(outputs: readonly Tensor[]): OutputSummary[] {
  const out = new Array<OutputSummary>(outputs.length);
  for (let k = 0; k < outputs.length; k++) out[k] = summariseOutput(outputs[k]);
  return out;
}

export function summariseOutput(t: Tensor): OutputSummary {
  const shape = t.shape.slice();
  if (t.datatype === 'BYTES') return new OutputSummary(t.name, t.datatype, shape, null, null, null);
  const count = elementCount(shape);
  if (isFloat(t.datatype) && shape.length === 2 && shape[1] >= 2 && shape[0] <= MAX_SUMMARY_ROWS) {
    const rows = shape[0];
    const cols = shape[1];
    const argmax = new Array<number>(rows);
    const score = new Array<number>(rows);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      let bestValue = numberAt(t, r * cols);
      for (let c = 1; c < cols; c++) {
        const v = numberAt(t, r * cols + c);
        if (v > bestValue) {
          bestValue = v;
          best = c;
        }
      }
      argmax[r] = best;
      score[r] = bestValue;
    }
    return new OutputSummary(t.name, t.datatype, shape, argmax, score, null);
  }
  const perRow = shape.length === 1 || (shape.length === 2 && shape[1] === 1);
  if (count <= SMALL_OUTPUT_ELEMENTS || (perRow && count <= MAX_SUMMARY_ROWS)) {
    const values = new Array<number>(count);
    for (let i = 0; i < count; i++) values[i] = numberAt(t, i);
    return new OutputSummary(t.name, t.datatype, shape, null, null, values);
  }
  return new OutputSummary(t.name, t.datatype, shape, null, null, null);
}

/** Name, datatype and shape of each tensor (shapes copied). */
export function describeTensors(tensors: readonly Tensor[]): TensorShape[] {
  const out = new Array<TensorShape>(tensors.length);
  for (let k = 0; k < tensors.length; k++) {
    const t = tensors[k];
    out[k] = new TensorShape(t.name, t.datatype, t.shape.slice());
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Copies of the tensors as JSON values: numbers, booleans for BOOL, UTF-8 text for BYTES. */
export function capturePayload(tensors: readonly Tensor[]): TensorPayload[] {
  return tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.slice(), data: tensorValues(t) }));
}

function tensorValues(t: Tensor): (number | boolean | string)[] {
  if (t.datatype === 'BYTES') return (t.data as Uint8Array[]).map((b) => utf8.decode(b));
  const n = t.data.length;
  const out = new Array<number | boolean>(n);
  if (t.datatype === 'BOOL') {
    for (let i = 0; i < n; i++) out[i] = (t.data as Uint8Array)[i] !== 0;
  } else {
    for (let i = 0; i < n; i++) out[i] = numberAt(t, i);
  }
  return out;
}
