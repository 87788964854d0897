/**
 * The input tensors every request of a run carries, built once before the load starts:
 *
 * - from the model's metadata: each input's shape with its dynamic dims (-1) set to 1, dim 0
 *   set to --batch-size when given, or the --shape given for that input; data random (seeded,
 *   so runs are repeatable: floats in [-1, 1), integers 0..9, BOOL 0/1, BYTES 8 random
 *   letters) or zeros;
 * - from a file holding a KServe v2 request body `{"inputs": [...]}`: its tensors (data flat
 *   or nested), plus the body's text, which the HTTP JSON driver sends as is.
 */
import { readFileSync } from 'node:fs';
import { DATATYPES, Tensor, allocate, elementCount, isDatatype, shapeToString, toHalf, type Datatype, type TensorData } from '../core/index.js';
import { BenchError, BenchUsageError } from './errors.js';
import type { ModelSignature } from './metadata.js';
import type { BenchOptions } from './options.js';

/** What every request of a run sends. */
export interface RequestContent {
  readonly tensors: readonly Tensor[];
  /** outputs to ask for by name; empty = all */
  readonly outputs: readonly string[];
  /** the request body read from --input-data file.json (sent as is over HTTP JSON); null otherwise */
  readonly fileBody: string | null;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** xorshift32: a small seeded generator, so two runs send the same data. */
class Random {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** uniform in [0, 1) */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 2 ** 32;
  }
}

function fill(dt: Datatype, count: number, random: Random | null): TensorData {
  const data = allocate(dt, count);
  if (random === null) return data;
  if (dt === 'BYTES') {
    const els = data as Uint8Array[];
    for (let i = 0; i < count; i++) {
      let s = '';
      for (let k = 0; k < 8; k++) s += LETTERS[Math.floor(random.next() * LETTERS.length)];
      els[i] = Buffer.from(s, 'latin1');
    }
    return data;
  }
  for (let i = 0; i < count; i++) {
    const r = random.next();
    if (dt === 'FP32' || dt === 'FP64') (data as Float32Array | Float64Array)[i] = r * 2 - 1;
    else if (dt === 'FP16') (data as Uint16Array)[i] = toHalf(r * 2 - 1);
    else if (dt === 'INT64') (data as BigInt64Array)[i] = BigInt(Math.floor(r * 10));
    else if (dt === 'UINT64') (data as BigUint64Array)[i] = BigInt(Math.floor(r * 10));
    else if (dt === 'BOOL') (data as Uint8Array)[i] = r < 0.5 ? 0 : 1;
    else (data as Exclude<TensorData, Uint8Array[] | BigInt64Array | BigUint64Array>)[i] = Math.floor(r * 10);
  }
  return data;
}

/** The shape an input is sent with: --shape, else its metadata shape with -1 → 1 and dim 0 → --batch-size. */
export function concreteShape(name: string, declared: readonly number[], options: Pick<BenchOptions, 'shapes' | 'batchSize'>): number[] {
  const fixed = options.shapes[name];
  if (fixed !== undefined) return [...fixed];
  const shape = declared.map((d) => (d < 0 ? 1 : d));
  if (options.batchSize !== null && shape.length > 0) shape[0] = options.batchSize;
  return shape;
}

/** Tensors for every input of `model`, as the options say. */
export function buildFromMetadata(model: ModelSignature, options: Pick<BenchOptions, 'shapes' | 'batchSize' | 'inputData'>): RequestContent {
  for (const name of Object.keys(options.shapes)) {
    if (!model.inputs.some((i) => i.name === name)) {
      throw new BenchUsageError(`--shape ${name}:…: model "${model.name}" has no input "${name}"; its inputs are ${model.inputs.map((i) => i.name).join(', ')}`);
    }
  }
  const random = options.inputData.kind === 'random' ? new Random(0x5eed) : null;
  const tensors = model.inputs.map((spec) => {
    if (!isDatatype(spec.datatype)) {
      throw new BenchError(`input "${spec.name}" of model "${model.name}" has datatype ${spec.datatype}, which the bench cannot generate; expected one of ${DATATYPES.join(', ')}`);
    }
    const shape = concreteShape(spec.name, spec.shape, options);
    return new Tensor(spec.name, spec.datatype, shape, fill(spec.datatype, elementCount(shape), random));
  });
  return Object.freeze({ tensors: Object.freeze(tensors), outputs: Object.freeze([]), fileBody: null });
}

function flatten(value: unknown, out: unknown[]): void {
  if (Array.isArray(value)) for (const v of value) flatten(v, out);
  else out.push(value);
}

function toData(label: string, dt: Datatype, values: unknown[]): TensorData {
  const data = allocate(dt, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (dt === 'BYTES') {
      if (typeof v !== 'string') throw new BenchError(`${label}: element ${i} is ${JSON.stringify(v)}; expected a string for BYTES`);
      (data as Uint8Array[])[i] = Buffer.from(v, 'utf8');
      continue;
    }
    const n = typeof v === 'boolean' ? Number(v) : v;
    if (typeof n !== 'number') throw new BenchError(`${label}: element ${i} is ${JSON.stringify(v)}; expected a number for ${dt}`);
    if (dt === 'FP16') (data as Uint16Array)[i] = toHalf(n);
    else if (dt === 'INT64') (data as BigInt64Array)[i] = BigInt(Math.trunc(n));
    else if (dt === 'UINT64') (data as BigUint64Array)[i] = BigInt(Math.trunc(n));
    else (data as Exclude<TensorData, Uint8Array[] | BigInt64Array | BigUint64Array>)[i] = n;
  }
  return data;
}

/** Reads a KServe v2 request body from `path`: its tensors and its text. */
export function buildFromFile(path: string): RequestContent {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BenchUsageError(`--input-data ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: { inputs?: unknown; outputs?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (e) {
    throw new BenchUsageError(`--input-data ${path} is not JSON (${(e as Error).message}); expected a KServe v2 request body {"inputs": [...]}`);
  }
  if (typeof json !== 'object' || json === null || !Array.isArray(json.inputs) || json.inputs.length === 0) {
    throw new BenchUsageError(`--input-data ${path}: expected a KServe v2 request body {"inputs": [{"name", "datatype", "shape", "data"}, ...]}`);
  }
  const tensors = (json.inputs as unknown[]).map((raw, k) => {
    const t = raw as { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown };
    const label = `--input-data ${path}: inputs[${k}]`;
    if (typeof t?.name !== 'string' || !isDatatype(t.datatype) || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw new BenchUsageError(`${label}: expected {"name": string, "datatype": one of ${DATATYPES.join('|')}, "shape": [whole numbers], "data": [...]}`);
    }
    const values: unknown[] = [];
    flatten(t.data, values);
    const shape = t.shape as number[];
    if (values.length !== elementCount(shape)) {
      throw new BenchUsageError(`${label} "${t.name}": ${values.length} elements in "data" but shape ${shapeToString(shape)} needs ${elementCount(shape)}`);
    }
    return new Tensor(t.name, t.datatype, shape, toData(`${label} "${t.name}"`, t.datatype, values));
  });
  const outputs = Array.isArray(json.outputs) ? (json.outputs as { name?: unknown }[]).map((o) => o?.name).filter((n): n is string => typeof n === 'string') : [];
  return Object.freeze({ tensors: Object.freeze(tensors), outputs: Object.freeze(outputs), fileBody: text });
}
