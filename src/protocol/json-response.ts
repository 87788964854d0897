/**
 * InferResponse → KServe v2 REST response body, with Triton's binary tensor extension.
 *
 * `{"id", "model_name", "model_version", "parameters"?, "outputs": [{"name", "datatype",
 * "shape", "parameters"?, "data"}]}`. Outputs asked for as binary carry
 * `"parameters": {"binary_data_size": N}` instead of "data" and follow the JSON as raw bytes,
 * in the order of the JSON's outputs; the caller then sends `Inference-Header-Content-Length:
 * headerLength` (and Content-Type application/octet-stream).
 */
import { GatewayError, type InferRequest, type InferResponse, type RequestedOutput, type Tensor } from '../core/index.js';
import { binaryByteLength, writeBinaryTensor } from './binary.js';
import { type NonFinite, jsonArray } from './json-values.js';
import { isSharedMemoryOutput, sharedMemoryOutputParameters } from './shared-memory-tensors.js';

export interface EncodedResponse {
  body: Buffer;
  /** byte length of the JSON part when binary outputs follow it, else null */
  headerLength: number | null;
}

function findOutput(resp: InferResponse, name: string): Tensor {
  const outs = resp.outputs;
  for (let i = 0; i < outs.length; i++) if (outs[i].name === name) return outs[i];
  throw new GatewayError('SY_ERR_INFERENCE_FAILED', `output "${name}" was requested but the model did not return it`);
}

/** Output parameters to write: the tensor's own, minus any stale binary_data_size, plus ours. */
function outputParameters(t: Tensor, binarySize: number, base64: boolean): string | null {
  let p: Record<string, unknown> | null = null;
  if (t.parameters !== null) {
    for (const k of Object.keys(t.parameters)) {
      if (k === 'binary_data_size') continue;
      p ??= {};
      p[k] = t.parameters[k];
    }
  }
  if (base64) (p ??= {}).content_type = 'base64';
  if (binarySize >= 0) (p ??= {}).binary_data_size = binarySize;
  return p === null ? null : JSON.stringify(p);
}

function wantsBase64(t: Tensor, ro: RequestedOutput | null): boolean {
  if (t.datatype !== 'BYTES') return false;
  if (ro !== null && ro.parameters !== null && ro.parameters.content_type === 'base64') return true;
  return t.parameters !== null && t.parameters.content_type === 'base64';
}

/**
 * Encodes `resp` for `req`: the outputs `req.outputs` lists, in that order (all of them, in
 * the response's order, when it is null). An output goes binary when its RequestedOutput
 * says so (the decoder already folded `binary_data_output` into it); when `req.outputs` is
 * null, `req.binaryOutputs` decides for all. `nonFinite` says how NaN and ±Infinity are
 * written in JSON data: REST answers with Triton's bare tokens, WebSocket with strings.
 */
export function encodeInferResponse(resp: InferResponse, req: InferRequest, nonFinite: NonFinite = 'string'): EncodedResponse {
  const listed = req.outputs;
  const n = listed === null ? resp.outputs.length : listed.length;
  let binary: Tensor[] | null = null;
  let binaryBytes = 0;
  let json = '{"id":' + JSON.stringify(resp.id) + ',"model_name":' + JSON.stringify(resp.modelName) + ',"model_version":' + JSON.stringify(resp.modelVersion);
  if (resp.parameters !== null) json += ',"parameters":' + JSON.stringify(resp.parameters);
  json += ',"outputs":[';
  for (let i = 0; i < n; i++) {
    const ro = listed === null ? null : listed[i];
    const t = ro === null ? resp.outputs[i] : findOutput(resp, ro.name);
    // a shared memory output was written into its region: answered with its parameters, no data
    const shm = isSharedMemoryOutput(ro);
    const asBinary = !shm && (ro === null ? req.binaryOutputs : ro.binary);
    const base64 = !asBinary && wantsBase64(t, ro);
    if (i > 0) json += ',';
    json += '{"name":' + JSON.stringify(t.name) + ',"datatype":"' + t.datatype + '","shape":[' + t.shape.join(',') + ']';
    let size = -1;
    if (asBinary) {
      size = binaryByteLength(t);
      binaryBytes += size;
      (binary ??= []).push(t);
    }
    const params = shm ? JSON.stringify(sharedMemoryOutputParameters(ro as RequestedOutput)) : outputParameters(t, size, base64);
    if (params !== null) json += ',"parameters":' + params;
    if (!asBinary && !shm) json += ',"data":' + jsonArray(t.datatype, t.data, 0, t.data.length, base64, nonFinite);
    json += '}';
  }
  json += ']}';

  if (binary === null) return { body: Buffer.from(json, 'utf8'), headerLength: null };
  const headerLength = Buffer.byteLength(json, 'utf8');
  const body = Buffer.allocUnsafe(headerLength + binaryBytes);
  body.write(json, 0, headerLength, 'utf8');
  let off = headerLength;
  for (let i = 0; i < binary.length; i++) off = writeBinaryTensor(binary[i], body, off);
  return { body, headerLength };
}
