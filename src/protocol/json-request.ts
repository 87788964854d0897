/**
 * KServe v2 REST infer request body → InferRequest, with Triton's binary tensor extension.
 *
 * Body: `{"id"?, "parameters"?, "inputs": [{"name", "datatype", "shape", "parameters"?,
 * "data"?}], "outputs"?: [{"name", "parameters"?: {"binary_data"?}}]}`. With an
 * `Inference-Header-Content-Length` header the JSON is the first headerLength bytes and the
 * rest is binary tensor data: each input whose `parameters.binary_data_size` is set takes
 * that many bytes, in input order, and the section must be used up exactly.
 *
 * Ownership: the returned request's binary inputs are views of `body` (copied only when
 * misaligned), so the caller hands `body` over with the request and must not reuse it.
 */
import {
  DATATYPES,
  type Datatype,
  InferRequest,
  type Protocol,
  type RequestedOutput,
  Tensor,
  type TensorData,
  isDatatype,
} from '../core/index.js';
import { BytesBudget, readBinaryTensor } from './binary.js';
import { namesSharedMemory, sharedMemoryPlaceholder } from './shared-memory-tensors.js';
import { type BytesEncoding, type ExactSource, decodeJsonData } from './elements.js';
import { type JsonObject, MAX_CONTROL_JSON_DEPTH, describeValue, invalid, isObject, jsonTypeOf, nestsDeeperThan, parseJsonBytes, parseJsonExactIntegers } from './json-text.js';

const DATATYPE_LIST = DATATYPES.join(', ');
const SHAPE_EXPECTED = 'an array of non-negative integers';

/**
 * Reads the binary section in order; one per request. Also the request's ExactSource: the
 * JSON part parsed again with long integers kept exactly, done at most once and only when an
 * INT64/UINT64 input asks for it.
 */
class BinarySection implements ExactSource {
  readonly body: Uint8Array;
  /** null when the request had no Inference-Header-Content-Length */
  readonly headerLength: number | null;
  offset: number;
  /** the request's BYTES elements, all inputs together */
  readonly bytes = new BytesBudget();
  private exact: unknown;

  constructor(body: Uint8Array, headerLength: number | null) {
    this.body = body;
    this.headerLength = headerLength;
    this.offset = headerLength ?? body.byteLength;
    this.exact = undefined;
  }

  exactData(index: number): unknown {
    if (this.exact === undefined) this.exact = parseJsonExactIntegers(this.headerLength === null ? this.body : this.body.subarray(0, this.headerLength));
    const inputs = isObject(this.exact) ? this.exact.inputs : undefined;
    const input: unknown = Array.isArray(inputs) ? inputs[index] : undefined;
    return isObject(input) ? input.data : undefined;
  }

  take(label: string, size: unknown): Uint8Array {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw invalid(`${label}: parameters.binary_data_size must be a non-negative integer, got ${describeValue(size)}`);
    }
    if (this.headerLength === null) {
      throw invalid(
        `${label}: parameters.binary_data_size is set but the request has no Inference-Header-Content-Length header; send it with the byte length of the JSON part`,
      );
    }
    const left = this.body.byteLength - this.offset;
    if (size > left) throw invalid(`${label}: binary_data_size ${size} runs past the end of the body (${left} bytes left)`);
    const bytes = this.body.subarray(this.offset, this.offset + size);
    this.offset += size;
    return bytes;
  }

  /** Throws when binary bytes were left unread. */
  finish(): void {
    const left = this.body.byteLength - this.offset;
    if (left > 0) {
      const used = this.offset - (this.headerLength ?? 0);
      throw invalid(
        `the body has ${left} bytes after the binary tensor data; expected it to end there (Inference-Header-Content-Length ${this.headerLength}, binary_data_size total ${used}, body ${this.body.byteLength} bytes)`,
      );
    }
  }
}

/**
 * A `parameters` object (of the request, an input or an output), or null. Its values are kept
 * on the request as they were sent, for whatever later reads or writes them; a 200,000-deep
 * array in one was accepted, and JSON.stringify of it overflows the stack. Nesting is bounded
 * as for control bodies, by a walk of the parameters only (not of the whole body).
 */
function parametersOf(v: unknown, what: string): JsonObject | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw invalid(`${what} must be an object, got ${jsonTypeOf(v)}`);
  if (nestsDeeperThan(v, MAX_CONTROL_JSON_DEPTH)) {
    throw invalid(`${what} nests deeper than ${MAX_CONTROL_JSON_DEPTH} levels; parameter values are expected to be strings, numbers or booleans`);
  }
  return v;
}

function readShape(label: string, v: unknown): number[] {
  if (v === undefined) throw invalid(`${label}: missing "shape"; expected ${SHAPE_EXPECTED}`);
  if (!Array.isArray(v)) throw invalid(`${label}: "shape" must be ${SHAPE_EXPECTED}, got ${describeValue(v)}`);
  for (let i = 0; i < v.length; i++) {
    const d: unknown = v[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw invalid(`${label}: shape ${describeValue(v)} has dimension ${describeValue(d)} at ${i}; expected ${SHAPE_EXPECTED}`);
    }
  }
  return v as number[];
}

function readInput(raw: unknown, index: number, bin: BinarySection): Tensor {
  if (!isObject(raw)) throw invalid(`inputs[${index}] must be an object, got ${jsonTypeOf(raw)}`);
  const name = raw.name;
  if (typeof name !== 'string' || name === '') {
    throw invalid(`inputs[${index}]: ${name === undefined ? 'missing "name"' : `"name" is ${describeValue(name)}`}; expected a non-empty string`);
  }
  const label = `input "${name}"`;
  const dt: unknown = raw.datatype;
  if (!isDatatype(dt)) {
    throw invalid(
      dt === undefined
        ? `${label}: missing "datatype"; expected one of ${DATATYPE_LIST}`
        : `${label}: unknown datatype ${describeValue(dt)}; expected one of ${DATATYPE_LIST}`,
    );
  }
  const shape = readShape(label, raw.shape);
  const params = parametersOf(raw.parameters, `${label}: "parameters"`);
  const size = params === null ? undefined : params.binary_data_size;
  const hasData = raw.data !== undefined;
  let data: TensorData;
  if (namesSharedMemory(params)) {
    // read from its region by the gateway (shared-memory-tensors.ts)
    if (hasData) throw invalid(`${label}: has both "data" and parameters.shared_memory_region; send one of them`);
    if (size !== undefined && size !== null) throw invalid(`${label}: has both parameters.binary_data_size and parameters.shared_memory_region; send one of them`);
    data = sharedMemoryPlaceholder(dt);
  } else if (size !== undefined && size !== null) {
    if (hasData) throw invalid(`${label}: has both "data" and parameters.binary_data_size; send one of them`);
    if (dt === 'BYTES') bin.bytes.count(label, shape);
    data = readBinaryTensor(label, dt, shape, bin.take(label, size));
  } else if (hasData) {
    if (dt === 'BYTES') bin.bytes.count(label, shape);
    data = decodeJsonData(label, dt, shape, raw.data, bytesEncoding(label, dt, params), bin, index);
  } else {
    throw invalid(`${label}: has neither "data" nor parameters.binary_data_size; send one of them`);
  }
  return new Tensor(name, dt, shape, data, params);
}

function bytesEncoding(label: string, dt: Datatype, params: JsonObject | null): BytesEncoding {
  const ct = params === null ? undefined : params.content_type;
  if (dt !== 'BYTES' || ct === undefined || ct === 'str' || ct === 'utf8') return 'utf8';
  if (ct === 'base64') return 'base64';
  throw invalid(`${label}: parameters.content_type ${describeValue(ct)} is not supported for BYTES; expected "base64" or none`);
}

function readOutput(raw: unknown, index: number, binaryDefault: boolean): RequestedOutput {
  if (!isObject(raw)) throw invalid(`outputs[${index}] must be an object, got ${jsonTypeOf(raw)}`);
  const name = raw.name;
  if (typeof name !== 'string' || name === '') {
    throw invalid(`outputs[${index}]: ${name === undefined ? 'missing "name"' : `"name" is ${describeValue(name)}`}; expected a non-empty string`);
  }
  const params = parametersOf(raw.parameters, `output "${name}": "parameters"`);
  let binary = binaryDefault;
  if (params !== null) {
    const b = params.binary_data;
    if (b !== undefined) {
      if (typeof b !== 'boolean') throw invalid(`output "${name}": parameters.binary_data must be true or false, got ${describeValue(b)}`);
      binary = b;
    }
    if (params.classification !== undefined) classCount(name, params.classification);
    // written into its region by the gateway, answered without data
    if (namesSharedMemory(params)) binary = false;
  }
  return { name, binary, parameters: params };
}

/**
 * The classification extension's `parameters.classification` (top-k of the output, answered as
 * BYTES "score:index[:label]"): a positive integer. Applied by the gateway (classification.ts).
 */
export function classCount(output: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw invalid(`output "${output}": parameters.classification must be a positive integer (how many top classes to return), got ${describeValue(v)}`);
  }
  return v;
}

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(`${what} must be a non-negative integer, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * Decodes a v2 infer request body. `headerLength` is the Inference-Header-Content-Length
 * header (null when absent). The request id stays '' when the body has none.
 *
 * `RequestedOutput.binary` is resolved here as Triton does: an output's own
 * `parameters.binary_data` wins, else the request's `binary_data_output`.
 *
 * Throws GatewayError SY_ERR_MALFORMED_JSON for unparsable JSON and SY_ERR_INVALID_INPUT
 * for anything else wrong, naming the input and what was expected.
 */
export function decodeInferRequest(
  body: Uint8Array,
  headerLength: number | null,
  modelName: string,
  modelVersion: string | null,
  receivedAt: number,
  protocol: Protocol = 'rest',
): InferRequest {
  return decodeParsedRequest(parseInferRequestJson(body, headerLength), body, headerLength, modelName, modelVersion, receivedAt, protocol);
}

/**
 * The JSON part of a request (the whole body, or its first `headerLength` bytes) parsed.
 * Throws SY_ERR_MALFORMED_JSON, or SY_ERR_INVALID_INPUT when it is not a JSON object or
 * `headerLength` is out of range.
 */
export function parseInferRequestJson(body: Uint8Array, headerLength: number | null): JsonObject {
  if (headerLength !== null && (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.byteLength)) {
    throw invalid(`Inference-Header-Content-Length ${headerLength} must be an integer between 0 and the body length (${body.byteLength} bytes)`);
  }
  const json = parseJsonBytes(headerLength === null ? body : body.subarray(0, headerLength));
  if (!isObject(json)) throw invalid(`the request body must be a JSON object with "inputs", got ${jsonTypeOf(json)}`);
  return json;
}

/**
 * A WebSocket stream message, already parsed by parseInferRequestJson: a v2 infer request
 * body that names its model in `"model_name"` (and optionally `"model_version"`, a string)
 * instead of the URL. Same checks, errors and ownership as decodeInferRequest.
 */
export function decodeStreamRequest(json: JsonObject, body: Uint8Array, headerLength: number | null, receivedAt: number): InferRequest {
  const name = json.model_name;
  if (typeof name !== 'string' || name === '') {
    throw invalid(
      name === undefined
        ? 'the message has no "model_name"; expected {"id", "model_name", "inputs": [...]}'
        : `"model_name" must be a non-empty string, got ${describeValue(name)}`,
    );
  }
  const version = json.model_version;
  if (version !== undefined && version !== null && typeof version !== 'string') {
    throw invalid(`"model_version" must be a string such as "1", got ${describeValue(version)}`);
  }
  return decodeParsedRequest(json, body, headerLength, name, typeof version === 'string' && version !== '' ? version : null, receivedAt, 'ws');
}

function decodeParsedRequest(
  json: JsonObject,
  body: Uint8Array,
  headerLength: number | null,
  modelName: string,
  modelVersion: string | null,
  receivedAt: number,
  protocol: Protocol,
): InferRequest {
  const id = json.id;
  if (id !== undefined && id !== null && typeof id !== 'string') throw invalid(`"id" must be a string, got ${describeValue(id)}`);
  const params = parametersOf(json.parameters, '"parameters"');

  const rawInputs = json.inputs;
  if (!Array.isArray(rawInputs)) {
    throw invalid(
      rawInputs === undefined
        ? 'the request has no "inputs"; expected {"inputs": [{"name", "datatype", "shape", "data"}]}'
        : `"inputs" must be an array, got ${jsonTypeOf(rawInputs)}`,
    );
  }
  const bin = new BinarySection(body, headerLength);
  const inputs = new Array<Tensor>(rawInputs.length);
  for (let i = 0; i < rawInputs.length; i++) inputs[i] = readInput(rawInputs[i], i, bin);
  bin.finish();

  const req = new InferRequest(modelName, modelVersion, inputs, protocol, receivedAt);
  if (typeof id === 'string') req.id = id;
  if (params !== null) {
    req.parameters = params;
    if (params.priority !== undefined) req.priority = nonNegativeInt(params.priority, 'parameters.priority');
    if (params.timeout !== undefined) req.timeoutUs = nonNegativeInt(params.timeout, 'parameters.timeout (microseconds)');
    const bo = params.binary_data_output;
    if (bo !== undefined) {
      if (typeof bo !== 'boolean') throw invalid(`parameters.binary_data_output must be true or false, got ${describeValue(bo)}`);
      req.binaryOutputs = bo;
    }
  }

  const rawOutputs = json.outputs;
  if (rawOutputs !== undefined && rawOutputs !== null) {
    if (!Array.isArray(rawOutputs)) throw invalid(`"outputs" must be an array, got ${jsonTypeOf(rawOutputs)}`);
    if (rawOutputs.length > 0) {
      const outputs = new Array<RequestedOutput>(rawOutputs.length);
      for (let i = 0; i < rawOutputs.length; i++) outputs[i] = readOutput(rawOutputs[i], i, req.binaryOutputs);
      req.outputs = outputs;
    }
  }
  return req;
}
