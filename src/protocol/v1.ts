/**
 * KServe v1 / TF-Serving `:predict` shim (row format).
 *
 * Request `{"instances": [row, …]}`: for a single-input model each row is the value of that
 * input for one batch item (nested arrays, or a scalar; an object keyed by the input name is
 * accepted too); for a multi-input model each row is an object keyed by input name. Each
 * input becomes one tensor of shape [rows, …row shape], with the datatype of the model's
 * signature. BYTES elements are UTF-8 strings or `{"b64": "<base64>"}` objects.
 *
 * Response `{"predictions": [row, …]}`: one entry per batch item (dim 0 of the outputs);
 * with one output each entry is that output's row (nested arrays per its shape, a scalar
 * for rank 1), with several an object keyed by output name.
 */
import {
  GatewayError,
  InferRequest,
  type InferResponse,
  type ModelSignature,
  Tensor,
  type TensorSpec,
  elementCount,
  shapeToString,
} from '../core/index.js';
import { MAX_DEPTH, RowFiller } from './elements.js';
import { invalid, isObject, jsonTypeOf, parseJsonBytes } from './json-text.js';
import { jsonArray, jsonElement } from './json-values.js';

function inputNames(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `"${s.name}"`).join(', ');
}

/** The value of `spec` in instance `i`. */
function rowValue(inst: unknown, i: number, spec: TensorSpec, specs: readonly TensorSpec[]): unknown {
  if (specs.length === 1) {
    return isObject(inst) && Object.prototype.hasOwnProperty.call(inst, spec.name) ? inst[spec.name] : inst;
  }
  if (!isObject(inst)) {
    throw invalid(`instances[${i}] must be an object keyed by input name (${inputNames(specs)}), got ${jsonTypeOf(inst)}`);
  }
  const v = inst[spec.name];
  if (v === undefined) throw invalid(`instances[${i}]: missing input "${spec.name}"; expected keys ${inputNames(specs)}`);
  return v;
}

function checkKeys(inst: unknown, i: number, specs: readonly TensorSpec[]): void {
  if (specs.length === 1 || !isObject(inst)) return;
  for (const k of Object.keys(inst)) {
    if (!specs.some((s) => s.name === k)) throw invalid(`instances[${i}]: unknown input "${k}"; the model takes ${inputNames(specs)}`);
  }
}

/** Row shape read along the first element of each level. */
function rowShapeOf(label: string, v: unknown): number[] {
  const dims: number[] = [];
  while (Array.isArray(v)) {
    if (dims.length >= MAX_DEPTH) throw invalid(`${label}: instances[0] is nested deeper than ${MAX_DEPTH} levels`);
    dims.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return dims;
}

class RowWriter {
  readonly label: string;
  readonly dims: number[];
  readonly filler: RowFiller;
  row: number;
  base: number;

  constructor(label: string, dims: number[], filler: RowFiller) {
    this.label = label;
    this.dims = dims;
    this.filler = filler;
    this.row = 0;
    this.base = 0;
  }

  shapeError(): GatewayError {
    return invalid(
      `${this.label}: instances[${this.row}] is not shaped like instances[0] (${shapeToString(this.dims)}); every instance must have the same shape`,
    );
  }

  /** Writes the leaves of `v` (at nesting `d`) from flat index `i`; returns the next index. */
  write(v: unknown, d: number, i: number): number {
    if (d === this.dims.length) {
      if (Array.isArray(v)) throw this.shapeError();
      this.filler.set(`${this.label} instances[${this.row}]`, i, i - this.base, v);
      return i + 1;
    }
    if (!Array.isArray(v) || v.length !== this.dims[d]) throw this.shapeError();
    for (let k = 0; k < v.length; k++) i = this.write(v[k], d + 1, i);
    return i;
  }
}

function buildInput(spec: TensorSpec, instances: unknown[], specs: readonly TensorSpec[], bodyBytes: number): Tensor {
  const label = `input "${spec.name}"`;
  const n = instances.length;
  const dims = rowShapeOf(label, rowValue(instances[0], 0, spec, specs));
  const rowCount = elementCount(dims);
  const total = n * rowCount;
  if (total > bodyBytes) {
    // every element takes at least one byte of the body, so some row is smaller than
    // instances[0]: find it before a lying instances[0] sizes a huge allocation
    for (let i = 1; i < n; i++) {
      if (elementCount(rowShapeOf(label, rowValue(instances[i], i, spec, specs))) !== rowCount) {
        throw invalid(`${label}: instances[${i}] is not shaped like instances[0] (${shapeToString(dims)}); every instance must have the same shape`);
      }
    }
    throw invalid(`${label}: the instances are not all shaped like instances[0] (${shapeToString(dims)}); every instance must have the same shape`);
  }
  const writer = new RowWriter(label, dims, new RowFiller(spec.datatype, total, 'tf'));
  let next = 0;
  for (let i = 0; i < n; i++) {
    writer.row = i;
    writer.base = next;
    next = writer.write(rowValue(instances[i], i, spec, specs), 0, next);
  }
  return new Tensor(spec.name, spec.datatype, [n, ...dims], writer.filler.finish());
}

/**
 * Decodes a v1 `:predict` body for a model with `signature`. The request carries no id
 * (the gateway fills it) and asks for every output.
 */
export function decodeV1Predict(
  body: Uint8Array,
  modelName: string,
  signature: ModelSignature,
  receivedAt: number,
  modelVersion: string | null = null,
): InferRequest {
  const json = parseJsonBytes(body);
  if (!isObject(json)) throw invalid(`the request body must be a JSON object {"instances": [...]}, got ${jsonTypeOf(json)}`);
  const instances = json.instances;
  if (!Array.isArray(instances)) {
    throw invalid(
      instances === undefined
        ? 'the request has no "instances"; expected {"instances": [...]} with one entry per row'
        : `"instances" must be an array, got ${jsonTypeOf(instances)}`,
    );
  }
  if (instances.length === 0) throw invalid('"instances" is empty; expected at least one row');
  const specs = signature.inputs;
  if (specs.length === 0) throw invalid(`model "${modelName}" takes no inputs; v1 :predict needs at least one`);
  for (let i = 0; i < instances.length; i++) checkKeys(instances[i], i, specs);
  const inputs = specs.map((spec) => buildInput(spec, instances, specs, body.byteLength));
  return new InferRequest(modelName, modelVersion, inputs, 'rest', receivedAt);
}

/** JSON of row `r` of `t` (dims after the first), nested per its shape. */
function rowJson(t: Tensor, r: number): string {
  const shape = t.shape;
  const rowCount = elementCount(shape) / shape[0];
  if (shape.length === 1) return jsonElement(t.datatype, t.data, r);
  return nested(t, 1, r * rowCount);
}

function nested(t: Tensor, d: number, start: number): string {
  const shape = t.shape;
  if (d === shape.length - 1) return jsonArray(t.datatype, t.data, start, start + shape[d]);
  const stride = elementCount(shape.slice(d + 1));
  let s = '[';
  for (let k = 0; k < shape[d]; k++) s += (k > 0 ? ',' : '') + nested(t, d + 1, start + k * stride);
  return s + ']';
}

/** Encodes `resp` as `{"predictions": [...]}`, one entry per batch item. */
export function encodeV1Predict(resp: InferResponse): Buffer {
  const outs = resp.outputs;
  if (outs.length === 0) return Buffer.from('{"predictions":[]}', 'utf8');
  const rows = outs[0].shape[0];
  for (const t of outs) {
    if (t.shape.length === 0 || t.shape[0] !== rows) {
      throw new GatewayError(
        'SY_ERR_INFERENCE_FAILED',
        `cannot write v1 predictions: output "${t.name}" has shape ${shapeToString(t.shape)} but "${outs[0].name}" has ${rows} rows; every output needs the batch as dim 0`,
      );
    }
  }
  const keys = outs.length > 1 ? outs.map((t) => JSON.stringify(t.name) + ':') : null;
  let s = '{"predictions":[';
  for (let r = 0; r < rows; r++) {
    if (r > 0) s += ',';
    if (keys === null) {
      s += rowJson(outs[0], r);
    } else {
      s += '{';
      for (let o = 0; o < outs.length; o++) s += (o > 0 ? ',' : '') + keys[o] + rowJson(outs[o], r);
      s += '}';
    }
  }
  return Buffer.from(s + ']}', 'utf8');
}
