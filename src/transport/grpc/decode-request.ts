/**
 * ModelInferRequest → InferRequest.
 *
 * Inputs come either all in `raw_input_contents` (one entry per input, in input order,
 * the layout of Triton's binary tensor extension, decoded by protocol/binary.ts) or all in
 * their typed `contents` (contents.ts). `req.binaryOutputs` records which one the client
 * used: the response answers in the same form, as Triton does. Request parameters
 * `priority` and `timeout` (microseconds) mean what REST's `parameters.priority` and
 * `parameters.timeout` mean.
 *
 * Ownership: raw and BYTES inputs are views of the decoded message's buffer (fixed-size ones
 * are copied only when misaligned); the request owns them from here on.
 */
import {
  DATATYPES,
  GatewayError,
  InferRequest,
  Tensor,
  elementCount,
  datatypeSize,
  isDatatype,
  shapeToString,
  type Datatype,
  type RequestedOutput,
  type TensorData,
} from '../../core/index.js';
import type { ModelInferRequest, ModelInferRequest_InferInputTensor, ModelInferRequest_InferRequestedOutputTensor } from '../../gen/grpc_service_pb.js';
import { BytesBudget, classCount, namesSharedMemory, readBinaryTensor, sharedMemoryPlaceholder } from '../../protocol/index.js';
import { checkModelName, checkVersion } from '../../repository/index.js';
import { refusalOf } from './service-definition.js';
import { readContents } from './contents.js';
import { readParameters } from './parameters.js';

const DATATYPE_LIST = DATATYPES.join(', ');

function invalid(message: string): GatewayError {
  return new GatewayError('SY_ERR_INVALID_INPUT', message);
}

function readShape(label: string, shape: readonly bigint[]): number[] {
  const out = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalid(`${label}: shape [${shape.join(',')}] has dimension ${d} at ${i}; expected non-negative integers`);
    }
    out[i] = Number(d);
  }
  return out;
}

function readDatatype(label: string, dt: string): Datatype {
  if (!isDatatype(dt)) {
    throw invalid(dt === '' ? `${label}: missing datatype; expected one of ${DATATYPE_LIST}` : `${label}: unknown datatype ${JSON.stringify(dt.slice(0, 40))}; expected one of ${DATATYPE_LIST}`);
  }
  return dt;
}

function readRaw(label: string, dt: Datatype, shape: number[], bytes: Uint8Array, index: number): TensorData {
  const size = datatypeSize(dt);
  if (size > 0) {
    const count = elementCount(shape);
    if (bytes.byteLength !== count * size) {
      throw invalid(
        `${label}: raw_input_contents[${index}] has ${bytes.byteLength} bytes but shape ${shapeToString(shape)} of ${dt} needs ${count * size} (${count} × ${size})`,
      );
    }
  }
  // BYTES: its errors speak of binary_data_size, the byte length of this raw entry
  return readBinaryTensor(`${label} (raw_input_contents[${index}])`, dt, shape, bytes);
}

/**
 * `rawIndex`: this input's entry in raw_input_contents (inputs in shared memory have none).
 * `bytes`: the request's BYTES elements, all inputs together.
 */
function readInput(t: ModelInferRequest_InferInputTensor, index: number, params: Record<string, unknown> | null, raw: readonly Uint8Array[] | null, rawIndex: number, bytes: BytesBudget): Tensor {
  if (t.name === '') throw invalid(`inputs[${index}]: missing name; expected a non-empty string`);
  const label = `input "${t.name}"`;
  const dt = readDatatype(label, t.datatype);
  const shape = readShape(label, t.shape);
  if (dt === 'BYTES' && !namesSharedMemory(params)) bytes.count(label, shape);
  let data: TensorData;
  if (namesSharedMemory(params)) {
    // read from its region by the gateway (protocol/shared-memory-tensors.ts)
    if (t.contents !== undefined) throw invalid(`${label}: has contents and parameters.shared_memory_region; send one of them`);
    data = sharedMemoryPlaceholder(dt);
  } else if (raw !== null) {
    if (t.contents !== undefined) {
      throw invalid(`${label}: has contents while the request uses raw_input_contents; send every input one way or the other`);
    }
    data = readRaw(label, dt, shape, raw[rawIndex], rawIndex);
  } else {
    data = readContents(label, dt, elementCount(shape), t.contents);
  }
  return new Tensor(t.name, dt, shape, data, params);
}

function readOutput(o: ModelInferRequest_InferRequestedOutputTensor, index: number, raw: boolean): RequestedOutput {
  if (o.name === '') throw invalid(`outputs[${index}]: missing name; expected a non-empty string`);
  const params = readParameters(o.parameters);
  if (params !== null) {
    // Triton's class_count (tritonclient sets parameters["classification"].int64_param)
    if (params.classification !== undefined) classCount(o.name, params.classification);
  }
  return { name: o.name, binary: raw, parameters: params };
}

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(`${what} must be a non-negative integer, got ${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Decodes one ModelInferRequest. Throws SY_ERR_BAD_REQUEST for a bad model name or version
 * and SY_ERR_INVALID_INPUT for anything else wrong, naming the input and what was expected.
 */
export function decodeModelInferRequest(m: ModelInferRequest, receivedAt: number): InferRequest {
  const refused = refusalOf(m); // over a wire limit or malformed: never decoded (wire-limits.ts)
  if (refused !== null) throw refused;
  checkModelName(m.modelName);
  if (m.modelVersion !== '') checkVersion(m.modelVersion);
  const rawList = m.rawInputContents;
  const raw = rawList.length > 0 ? rawList : null;
  const n = m.inputs.length;
  const inputParams = new Array<Record<string, unknown> | null>(n);
  // inputs in shared memory have no raw_input_contents entry (as in Triton)
  let inShm = 0;
  for (let i = 0; i < n; i++) {
    inputParams[i] = readParameters(m.inputs[i].parameters);
    if (namesSharedMemory(inputParams[i])) inShm++;
  }
  if (raw !== null && raw.length !== n - inShm) {
    throw invalid(
      inShm === 0
        ? `the request has ${raw.length} raw_input_contents for ${n} inputs; send one per input, in the order of inputs`
        : `the request has ${raw.length} raw_input_contents for ${n - inShm} inputs not in shared memory (${inShm} of the ${n} inputs are); send one per input not in shared memory, in the order of inputs`,
    );
  }
  const inputs = new Array<Tensor>(n);
  const bytes = new BytesBudget();
  for (let i = 0, r = 0; i < n; i++) {
    inputs[i] = readInput(m.inputs[i], i, inputParams[i], raw, r, bytes);
    if (!namesSharedMemory(inputParams[i])) r++;
  }

  const req = new InferRequest(m.modelName, m.modelVersion === '' ? null : m.modelVersion, inputs, 'grpc', receivedAt);
  req.id = m.id;
  req.binaryOutputs = raw !== null;
  const params = readParameters(m.parameters);
  if (params !== null) {
    req.parameters = params;
    if (params.priority !== undefined) req.priority = nonNegativeInt(params.priority, 'parameters.priority');
    if (params.timeout !== undefined) req.timeoutUs = nonNegativeInt(params.timeout, 'parameters.timeout (microseconds)');
  }
  if (m.outputs.length > 0) {
    const outputs = new Array<RequestedOutput>(m.outputs.length);
    for (let i = 0; i < outputs.length; i++) outputs[i] = readOutput(m.outputs[i], i, req.binaryOutputs);
    req.outputs = outputs;
  }
  return req;
}
