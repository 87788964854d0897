import { elementCount, shapeToString } from './datatypes.js';
import { GatewayError } from './errors.js';
import type { InferRequest } from './request.js';
import type { ModelSignature, TensorSpec } from './tensor.js';
import { untransportableText } from './text-bytes.js';

function describe(spec: { datatype: string; shape: readonly number[] }): string {
  return `${spec.datatype} ${shapeToString(spec.shape)}`;
}

function names(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `"${s.name}" (${describe(s)})`).join(', ');
}

function shapeMatches(spec: readonly number[], shape: readonly number[]): boolean {
  if (spec.length !== shape.length) return false;
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] !== -1 && spec[i] !== shape[i]) return false;
  }
  return true;
}

/**
 * Checks a request against the model's signature; returns its batch size (dim 0 of its
 * inputs when the model batches, else 1). Throws SY_ERR_INVALID_INPUT or
 * SY_ERR_BATCH_TOO_LARGE with a message that names the input and what was expected.
 */
export function validateRequest(req: InferRequest, signature: ModelSignature, maxBatchSize: number, label: string): number {
  const expected = signature.inputs;
  if (req.inputs.length === 0) {
    throw new GatewayError('SY_ERR_INVALID_INPUT', `${label}: request has no inputs; expected ${names(expected)}`);
  }
  let batch = -1;
  for (let i = 0; i < req.inputs.length; i++) {
    const t = req.inputs[i];
    for (let j = 0; j < i; j++) {
      if (req.inputs[j].name === t.name) throw new GatewayError('SY_ERR_INVALID_INPUT', `${label}: input "${t.name}" appears twice`);
    }
    const spec = expected.find((s) => s.name === t.name);
    if (spec === undefined) {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `${label}: unexpected input "${t.name}"; the model takes ${names(expected)}`);
    }
    if (spec.datatype !== t.datatype || !shapeMatches(spec.shape, t.shape)) {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `input "${t.name}": expected ${describe(spec)}, got ${describe(t)}`);
    }
    if (t.data.length !== elementCount(t.shape)) {
      throw new GatewayError(
        'SY_ERR_INVALID_INPUT',
        `input "${t.name}": shape ${shapeToString(t.shape)} needs ${elementCount(t.shape)} elements, got ${t.data.length}`,
      );
    }
    if (t.datatype === 'BYTES') checkTextElements(t.name, t.data as readonly Uint8Array[]);
    if (maxBatchSize > 0) {
      const b = t.shape[0];
      if (batch === -1) batch = b;
      else if (b !== batch) {
        throw new GatewayError('SY_ERR_INVALID_INPUT', `input "${t.name}": batch size (dim 0) is ${b} but other inputs have ${batch}; all inputs must agree`);
      }
    }
  }
  if (req.inputs.length !== expected.length) {
    const missing = expected.filter((s) => !req.inputs.some((t) => t.name === s.name));
    throw new GatewayError('SY_ERR_INVALID_INPUT', `${label}: missing input ${names(missing)}`);
  }
  if (req.outputs !== null) {
    for (const o of req.outputs) {
      if (!signature.outputs.some((s) => s.name === o.name)) {
        throw new GatewayError('SY_ERR_INVALID_INPUT', `${label}: unknown output "${o.name}"; the model has ${names(signature.outputs)}`);
      }
    }
  }
  if (maxBatchSize > 0) {
    if (batch < 1) throw new GatewayError('SY_ERR_INVALID_INPUT', `${label}: batch size (dim 0) must be at least 1, got ${batch}`);
    if (batch > maxBatchSize) {
      throw new GatewayError(
        'SY_ERR_BATCH_TOO_LARGE',
        `${label}: batch size ${batch} is larger than max_batch_size ${maxBatchSize}; split the request`,
      );
    }
    return batch;
  }
  return 1;
}

/**
 * Refuses a BYTES element ONNX Runtime's Node binding would change (NUL, not UTF-8: see
 * text-bytes.ts), naming the first such element: the data reaches the model unchanged or not
 * at all.
 */
function checkTextElements(name: string, data: readonly Uint8Array[]): void {
  for (let i = 0; i < data.length; i++) {
    const why = untransportableText(data[i]);
    if (why !== null) {
      throw new GatewayError(
        'SY_ERR_INVALID_INPUT',
        `input "${name}": element ${i} ${why}; ONNX Runtime's Node binding carries BYTES elements as UTF-8 text without NUL and would change these bytes, so switchyard refuses them (send such data base64-encoded, or as UINT8)`,
      );
    }
  }
}
