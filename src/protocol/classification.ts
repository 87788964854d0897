/**
 * Triton's classification extension: an output requested with `parameters.classification: k`
 * (gRPC: tritonclient's `class_count`, the same parameter) is answered, instead of its data,
 * as BYTES of shape [batch, min(k, classes)] (or [min(k, classes)] for a model without a
 * batch dimension), each element `"<value>:<index>"` or `"<value>:<index>:<label>"` for the
 * top-k of that batch item's elements, highest first. As in Triton's server
 * (src/classification.cc): the classes of an item are all of its elements; the value is
 * printed by C++'s std::to_string (printf `%f` for floats: six decimals; integers in
 * decimal); a label comes from the output's labels file (`label_filename`), and an index with
 * no label (past the end of the file, or an empty line) has none. Equal values keep index
 * order (Triton's sort leaves them unspecified). BOOL and BYTES outputs cannot be classified.
 *
 * The gateway plans before the request runs (so a bad request costs no inference) and applies
 * the plan to the response; without a classification parameter neither does any work.
 */
import { GatewayError, InferResponse, Tensor, fromHalf, type Datatype, type InferRequest, type ModelSignature, type TensorData } from '../core/index.js';
import { classCount } from './json-request.js';

/** What classification needs to know of the model version that serves a request. */
export interface ClassificationModel {
  readonly signature: ModelSignature;
  /** > 0 when dim 0 of every output is the batch */
  readonly maxBatchSize: number;
  /** output name → its labels (line i = label of class i) */
  readonly labels: ReadonlyMap<string, readonly string[]>;
}

class ClassifiedOutput {
  readonly name: string;
  readonly count: number;
  readonly labels: readonly string[] | null;
  constructor(name: string, count: number, labels: readonly string[] | null) {
    this.name = name;
    this.count = count;
    this.labels = labels;
  }
}

/** The outputs of one request to classify, and how. */
export class ClassificationPlan {
  readonly outputs: readonly ClassifiedOutput[];
  readonly batched: boolean;
  constructor(outputs: readonly ClassifiedOutput[], batched: boolean) {
    this.outputs = outputs;
    this.batched = batched;
  }
}

const NOT_CLASSIFIABLE: ReadonlySet<Datatype> = new Set<Datatype>(['BOOL', 'BYTES']);

/**
 * The classification the request asks of `model`, or null when it asks none (the common case:
 * one pass over the requested outputs). Throws SY_ERR_INVALID_INPUT for a count that is not a
 * positive integer, a BOOL or BYTES output, or a classified output also sent to shared memory.
 * Outputs the model does not have are left to request validation.
 */
export function planClassification(req: InferRequest, model: ClassificationModel): ClassificationPlan | null {
  const requested = req.outputs;
  if (requested === null) return null;
  let outs: ClassifiedOutput[] | null = null;
  for (let i = 0; i < requested.length; i++) {
    const ro = requested[i];
    const p = ro.parameters;
    if (p === null || p.classification === undefined) continue;
    const count = classCount(ro.name, p.classification);
    const spec = model.signature.outputs.find((o) => o.name === ro.name);
    if (spec === undefined) continue;
    if (NOT_CLASSIFIABLE.has(spec.datatype)) {
      throw new GatewayError(
        'SY_ERR_INVALID_INPUT',
        `output "${ro.name}": classification needs a numeric output, and "${ro.name}" is ${spec.datatype}; request it without parameters.classification`,
      );
    }
    if (p.shared_memory_region !== undefined) {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `output "${ro.name}": a classification result cannot be written to shared memory; ask for one or the other`);
    }
    (outs ??= []).push(new ClassifiedOutput(ro.name, count, model.labels.get(ro.name) ?? null));
  }
  return outs === null ? null : new ClassificationPlan(outs, model.maxBatchSize > 0);
}

/**
 * A copy of `resp` whose planned outputs are replaced by their classification (the original
 * response is not changed: shadow comparison and the request log may still hold it).
 */
export function applyClassification(plan: ClassificationPlan, resp: InferResponse): InferResponse {
  const outputs = resp.outputs.map((t) => {
    const c = plan.outputs.find((o) => o.name === t.name);
    return c === undefined ? t : classifyTensor(t, c.count, c.labels, plan.batched);
  });
  const out = new InferResponse(resp.id, resp.modelName, resp.modelVersion, outputs);
  out.parameters = resp.parameters;
  out.queueUs = resp.queueUs;
  out.computeUs = resp.computeUs;
  out.batchSize = resp.batchSize;
  return out;
}

/** The top-`count` classes of each batch item of `t` as a BYTES tensor of the same name. */
export function classifyTensor(t: Tensor, count: number, labels: readonly string[] | null, batched: boolean): Tensor {
  const total = t.data.length;
  const hasBatch = batched && t.shape.length > 0;
  const rows = hasBatch ? t.shape[0] : 1;
  let perRow = total;
  if (hasBatch) {
    perRow = 1;
    for (let d = 1; d < t.shape.length; d++) perRow *= t.shape[d];
  }
  const n = Math.min(count, perRow);
  const value = valueReader(t.datatype, t.data);
  const strings = new Array<string>(rows * n);
  const order = new Array<number>(perRow);
  for (let r = 0; r < rows; r++) {
    const base = r * perRow;
    for (let i = 0; i < perRow; i++) order[i] = i;
    order.sort((a, b) => compareDescending(value.at(base + a), value.at(base + b)) || a - b);
    for (let j = 0; j < n; j++) {
      const idx = order[j];
      const label = labels !== null && idx < labels.length ? labels[idx] : '';
      strings[r * n + j] = value.text(base + idx) + ':' + idx + (label === '' ? '' : ':' + label);
    }
  }
  return new Tensor(t.name, 'BYTES', hasBatch ? [rows, n] : [n], utf8Elements(strings), null);
}

type Scalar = number | bigint;

interface ValueReader {
  at(i: number): Scalar;
  /** as std::to_string prints it */
  text(i: number): string;
}

function valueReader(dt: Datatype, data: TensorData): ValueReader {
  if (dt === 'FP32' || dt === 'FP64') {
    const a = data as Float64Array;
    return { at: (i) => a[i], text: (i) => printfFixed(a[i]) };
  }
  if (dt === 'FP16') {
    const a = data as Uint16Array;
    return { at: (i) => fromHalf(a[i]), text: (i) => printfFixed(fromHalf(a[i])) };
  }
  const a = data as Int32Array | BigInt64Array;
  return { at: (i) => a[i], text: (i) => String(a[i]) };
}

/** Higher first; NaN after every number. */
function compareDescending(x: Scalar, y: Scalar): number {
  if (x !== x) return y !== y ? 0 : 1;
  if (y !== y) return -1;
  return x > y ? -1 : x < y ? 1 : 0;
}

/**
 * printf("%f", v) as glibc writes it (what std::to_string(float|double) returns): six
 * decimals, exact ties rounded to even, `nan`, `inf`, `-inf`, and the sign of -0 kept.
 * toFixed rounds exact ties up instead; a tie at the sixth decimal is a value j/128 with j
 * odd (it needs exactly seven decimals, the last a 5), which is checked exactly.
 */
export function printfFixed(v: number): string {
  if (v !== v) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  const sign = v < 0 || (v === 0 && 1 / v < 0) ? '-' : '';
  const a = Math.abs(v);
  // toFixed switches to exponent notation from 1e21 on; every double that large is an integer
  if (a >= 1e21) return sign + BigInt(a).toString() + '.000000';
  const t = a * 128;
  if (Number.isInteger(t) && t % 2 === 1) {
    const seven = a.toFixed(7);
    const down = seven.slice(0, -1);
    if ((down.charCodeAt(down.length - 1) - 48) % 2 === 0) return sign + down;
  }
  return sign + a.toFixed(6);
}

/** BYTES storage of strings: one buffer, each element a view of it (as the JSON codec builds them). */
function utf8Elements(strings: readonly string[]): Uint8Array[] {
  let total = 0;
  for (let i = 0; i < strings.length; i++) total += Buffer.byteLength(strings[i], 'utf8');
  const buf = Buffer.allocUnsafeSlow(total);
  const out = new Array<Uint8Array>(strings.length);
  let off = 0;
  for (let i = 0; i < strings.length; i++) {
    const n = buf.write(strings[i], off, 'utf8');
    out[i] = new Uint8Array(buf.buffer, buf.byteOffset + off, n);
    off += n;
  }
  return out;
}
