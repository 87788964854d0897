/**
 * Tensors that travel through system shared memory (Triton's shared memory extension): an
 * input or a requested output whose parameters name `shared_memory_region`,
 * `shared_memory_byte_size` and optionally `shared_memory_offset` (default 0).
 *
 * The decoders (REST JSON, gRPC, WebSocket) leave such an input without data: its Tensor
 * holds an empty placeholder (sharedMemoryPlaceholder) and the parameters. Gateway.infer()
 * then, before anything reads the inputs, fills them from their regions
 * (readSharedMemoryInputs) and checks the output regions (checkSharedMemoryOutputs); once
 * the model answered, writeSharedMemoryOutputs() writes those outputs into their regions,
 * and the encoders answer them with their parameters and no data (isSharedMemoryOutput).
 *
 * The layout in a region is the binary tensor extension's: fixed-size elements little-endian
 * and row-major, BYTES as 4-byte little-endian lengths each followed by its bytes.
 */
import { GatewayError, allocate, datatypeSize, elementCount, shapeToString, type Datatype, type InferRequest, type InferResponse, type RequestedOutput, type Tensor, type TensorData } from '../core/index.js';
import { binaryByteLength, readBinaryTensor, writeBinaryTensor } from './binary.js';
import type { SharedMemoryRegistry } from './shared-memory.js';

/** Where a tensor lies in shared memory. */
export interface SharedMemoryRef {
  readonly region: string;
  readonly offset: number;
  readonly byteSize: number;
}

function invalid(message: string): GatewayError {
  return new GatewayError('SY_ERR_INVALID_INPUT', message);
}

function show(v: unknown): string {
  return typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? String(v));
}

function bytesParam(label: string, params: Record<string, unknown>, key: string): number | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`${label}: parameters.${key} must be a non-negative integer (bytes), got ${show(v).slice(0, 60)}`);
  return v;
}

/**
 * The shared memory location a tensor's parameters name, or null when they name none.
 * Throws a 400 (Triton's rules): `shared_memory_byte_size` is required with a region, and
 * neither it nor `shared_memory_offset` may come without one.
 */
export function sharedMemoryRef(label: string, params: Record<string, unknown> | null): SharedMemoryRef | null {
  if (params === null) return null;
  const region = params.shared_memory_region;
  const size = bytesParam(label, params, 'shared_memory_byte_size');
  const offset = bytesParam(label, params, 'shared_memory_offset');
  if (region === undefined || region === null) {
    if (size !== undefined || offset !== undefined) {
      throw invalid(`${label}: parameters.${size !== undefined ? 'shared_memory_byte_size' : 'shared_memory_offset'} can not be specified without parameters.shared_memory_region`);
    }
    return null;
  }
  if (typeof region !== 'string' || region === '') throw invalid(`${label}: parameters.shared_memory_region must be the name of a registered region, got ${show(region).slice(0, 60)}`);
  if (size === undefined) throw invalid(`${label}: parameters.shared_memory_byte_size must be specified along with parameters.shared_memory_region`);
  return { region, offset: offset ?? 0, byteSize: size };
}

/** Whether a decoded input's data is to come from shared memory (its parameters name a region). */
export function namesSharedMemory(params: Record<string, unknown> | null): boolean {
  return params !== null && params.shared_memory_region !== undefined && params.shared_memory_region !== null;
}

/** The data a shared memory input holds until the gateway reads its region: no elements. */
export function sharedMemoryPlaceholder(dt: Datatype): TensorData {
  return allocate(dt, 0);
}

/** Whether the client asked for this output in shared memory (its parameters name a region). */
export function isSharedMemoryOutput(ro: RequestedOutput | null): boolean {
  return ro !== null && namesSharedMemory(ro.parameters);
}

/** The parameters a shared memory output is answered with: its region, offset and byte size as sent. */
export function sharedMemoryOutputParameters(ro: RequestedOutput): Record<string, unknown> {
  const p = ro.parameters as Record<string, unknown>;
  const out: Record<string, unknown> = { shared_memory_region: p.shared_memory_region, shared_memory_byte_size: p.shared_memory_byte_size };
  if (p.shared_memory_offset !== undefined && p.shared_memory_offset !== null) out.shared_memory_offset = p.shared_memory_offset;
  return out;
}

/** Whether any input or requested output of `req` uses shared memory (cheap: the common case has no parameters). */
export function usesSharedMemory(req: InferRequest): boolean {
  const inputs = req.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const p = inputs[i].parameters;
    if (p !== null && (p.shared_memory_region !== undefined || p.shared_memory_byte_size !== undefined || p.shared_memory_offset !== undefined)) return true;
  }
  const outputs = req.outputs;
  if (outputs !== null) {
    for (let i = 0; i < outputs.length; i++) {
      const p = outputs[i].parameters;
      if (p !== null && (p.shared_memory_region !== undefined || p.shared_memory_byte_size !== undefined || p.shared_memory_offset !== undefined)) return true;
    }
  }
  return false;
}

function readInput(t: Tensor, ref: SharedMemoryRef, registry: SharedMemoryRegistry): void {
  const label = `input "${t.name}"`;
  const size = datatypeSize(t.datatype);
  if (size > 0) {
    const count = elementCount(t.shape);
    if (ref.byteSize !== count * size) {
      throw invalid(
        `${label}: shared_memory_byte_size ${ref.byteSize} does not match shape ${shapeToString(t.shape)} of ${t.datatype}: expected ${count * size} bytes (${count} × ${size})`,
      );
    }
  }
  const bytes = registry.read(label, ref.region, ref.offset, ref.byteSize);
  t.data = readBinaryTensor(`${label} (shared memory region "${ref.region}")`, t.datatype, t.shape, bytes);
}

/**
 * Fills every shared memory input of `req` from its region and checks every shared memory
 * output's region and range, before the request is queued. Throws a 400 naming the tensor.
 */
export function readSharedMemoryInputs(req: InferRequest, registry: SharedMemoryRegistry): void {
  const inputs = req.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    const ref = sharedMemoryRef(`input "${t.name}"`, t.parameters);
    if (ref !== null) readInput(t, ref, registry);
  }
  const outputs = req.outputs;
  if (outputs === null) return;
  for (let i = 0; i < outputs.length; i++) {
    const label = `output "${outputs[i].name}"`;
    const ref = sharedMemoryRef(label, outputs[i].parameters);
    if (ref !== null) registry.check(label, ref.region, ref.offset, ref.byteSize);
  }
}

function findOutput(resp: InferResponse, name: string): Tensor {
  const outs = resp.outputs;
  for (let i = 0; i < outs.length; i++) if (outs[i].name === name) return outs[i];
  throw new GatewayError('SY_ERR_INFERENCE_FAILED', `output "${name}" was requested but the model did not return it`);
}

/**
 * Writes every output `req` asked for in shared memory into its region. A region smaller
 * than the output is a 400 that says how many bytes the output needs (the model ran; its
 * result is not written anywhere).
 */
export function writeSharedMemoryOutputs(req: InferRequest, resp: InferResponse, registry: SharedMemoryRegistry): void {
  const outputs = req.outputs;
  if (outputs === null) return;
  for (let i = 0; i < outputs.length; i++) {
    const ro = outputs[i];
    const label = `output "${ro.name}"`;
    const ref = sharedMemoryRef(label, ro.parameters);
    if (ref === null) continue;
    const t = findOutput(resp, ro.name);
    const need = binaryByteLength(t);
    if (need > ref.byteSize) {
      throw invalid(
        `${label}: shared memory size specified with the request for output '${ro.name}' (${ref.byteSize} bytes) should be at least ${need} bytes to hold the results (${t.datatype} ${shapeToString(t.shape)}); register a larger region or send a larger shared_memory_byte_size`,
      );
    }
    let bytes: Uint8Array;
    if (t.datatype === 'BYTES') {
      bytes = Buffer.allocUnsafe(need);
      writeBinaryTensor(t, bytes as Buffer, 0);
    } else {
      const d = t.data as Exclude<TensorData, Uint8Array[]>;
      bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    }
    registry.write(label, ref.region, ref.offset, bytes);
  }
}
