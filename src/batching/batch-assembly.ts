import { allocate, type NumericArray } from '../core/datatypes.js';
import { GatewayError } from '../core/errors.js';
import type { InferRequest } from '../core/request.js';
import { Tensor } from '../core/tensor.js';

/**
 * Building a batch's input tensors from its requests, and cutting the batch's outputs back
 * into per-request views. Pure functions; the schedulers call them.
 */

/** One request's share of a batch. */
export interface BatchPart {
  readonly req: InferRequest;
  /** dim-0 rows */
  readonly items: number;
}

/** The input of `req` named `name`; `hint` is where it usually is (the head's order). */
function inputOf(req: InferRequest, name: string, hint: number): Tensor | undefined {
  const inputs = req.inputs;
  const t = inputs[hint];
  if (t !== undefined && t.name === name) return t;
  for (let i = 0; i < inputs.length; i++) if (inputs[i].name === name) return inputs[i];
  return undefined;
}

/**
 * Whether `b` may share a batch with `a`: the same input names and datatypes, and the same
 * dims after dim 0 (the batch dimension).
 */
export function sameNonBatchDims(a: InferRequest, b: InferRequest): boolean {
  const ai = a.inputs;
  if (ai.length !== b.inputs.length) return false;
  for (let k = 0; k < ai.length; k++) {
    const ta = ai[k];
    const tb = inputOf(b, ta.name, k);
    if (tb === undefined || tb.datatype !== ta.datatype) return false;
    const sa = ta.shape;
    const sb = tb.shape;
    if (sa.length !== sb.length) return false;
    for (let d = 1; d < sa.length; d++) if (sa[d] !== sb[d]) return false;
  }
  return true;
}

/** Elements per dim-0 row of a shape. */
function rowElements(shape: readonly number[]): number {
  let n = 1;
  for (let d = 1; d < shape.length; d++) n *= shape[d];
  return n;
}

/** dst.set(src, offset) for two typed arrays of the same datatype. */
function copyInto(dst: NumericArray, src: NumericArray, offset: number): void {
  // Same datatype means same typed-array class at run time; the cast only picks one
  // overload of the union's `set`.
  (dst as Uint8Array).set(src as Uint8Array, offset);
}

/**
 * The batch's inputs: for each input of the first request (in its order), one fresh tensor
 * of shape [totalItems, ...rest] holding every request's rows in order. Always copies (a
 * batch of one too), so the result owns its buffers and the runner may transfer them. BYTES
 * elements are not copied, only the array that holds them.
 * The parts must be `sameNonBatchDims` with the first.
 */
export function concatInputs(parts: readonly BatchPart[], totalItems: number): Tensor[] {
  const headInputs = parts[0].req.inputs;
  const out = new Array<Tensor>(headInputs.length);
  for (let k = 0; k < headInputs.length; k++) {
    const t0 = headInputs[k];
    const row = rowElements(t0.shape);
    const total = totalItems * row;
    const data = t0.datatype === 'BYTES' ? new Array<Uint8Array>(total) : allocate(t0.datatype, total);
    let offset = 0;
    for (let r = 0; r < parts.length; r++) {
      const part = parts[r];
      const src = inputOf(part.req, t0.name, k);
      const n = part.items * row;
      if (src === undefined || src.data.length !== n || offset + n > total) {
        throw new GatewayError('SY_ERR_INVALID_INPUT', `input "${t0.name}": request "${part.req.id}" does not hold ${part.items} rows of ${row} elements`);
      }
      if (Array.isArray(data)) {
        const bytes = src.data as Uint8Array[];
        for (let i = 0; i < n; i++) data[offset + i] = bytes[i];
      } else {
        copyInto(data, src.data as NumericArray, offset);
      }
      offset += n;
    }
    const shape = t0.shape.slice();
    shape[0] = totalItems;
    out[k] = new Tensor(t0.name, t0.datatype, shape, data);
  }
  return out;
}

/** A copy of `t` that owns exactly-sized storage (what the runner may transfer). */
export function copyTensor(t: Tensor): Tensor {
  return new Tensor(t.name, t.datatype, t.shape.slice(), t.data.slice());
}

/**
 * Rows [offset, offset + rows) of a batch output whose dim 0 is the batch's rows: a view
 * (`subarray`, no copy) for typed arrays, a slice of the element array for BYTES.
 */
export function sliceRows(t: Tensor, name: string, offset: number, rows: number): Tensor {
  const row = rowElements(t.shape);
  const start = offset * row;
  const end = start + rows * row;
  const data = t.data;
  const part = Array.isArray(data) ? data.slice(start, end) : data.subarray(start, end);
  const shape = t.shape.slice();
  shape[0] = rows;
  return new Tensor(name, t.datatype, shape, part);
}

/**
 * Why a batch's outputs cannot be cut into rows (dim 0 ≠ the batch's rows, or data that
 * does not fill the shape), or null when they can.
 */
export function checkBatchOutputs(outputs: readonly Tensor[], names: readonly string[], items: number): string | null {
  for (let j = 0; j < names.length; j++) {
    const t = outputs[j];
    const shape = t.shape;
    if (shape.length === 0 || shape[0] !== items) {
      return `output "${names[j]}" has shape [${shape.join(',')}] for a batch of ${items}; dim 0 must be the batch dimension`;
    }
    if (t.data.length !== items * rowElements(shape)) {
      return `output "${names[j]}" holds ${t.data.length} elements, shape [${shape.join(',')}] needs ${items * rowElements(shape)}`;
    }
  }
  return null;
}
