/**
 * InferResponse → ModelInferResponse (as an init object; the service definition encodes it).
 *
 * Outputs are the ones the request listed, in its order (all of them, in the model's order,
 * when it listed none). As Triton does, they always go in `raw_output_contents`, whichever
 * form the request used (typed `contents` in a response break hand-written stubs and Triton's
 * explicit-content examples, which read only the raw bytes). Raw fixed-size outputs are views
 * of the response tensors (the encoder copies them into the message); BYTES are laid out as
 * 4-byte little-endian lengths followed by the bytes, as in the binary extension.
 *
 * Two forms of the same message: `modelInferResponseBytes` writes the wire bytes directly
 * (what the doors send: no message objects, one buffer of the exact size), and
 * `encodeModelInferResponse` builds the init object @bufbuild/protobuf encodes (the
 * reference the codec tests compare the bytes with).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { GatewayError, type InferRequest, type InferResponse, type NumericArray, type RequestedOutput, type Tensor } from '../../core/index.js';
import type { ModelInferResponseSchema } from '../../gen/grpc_service_pb.js';
import { binaryByteLength, isSharedMemoryOutput, sharedMemoryOutputParameters, writeBinaryTensor } from '../../protocol/index.js';
import { rawBytes } from './contents.js';
import { int64Size, lenFieldSize, ProtoWriter, varintSize, WIRE_VARINT } from './proto-writer.js';
import { writeParameters } from './parameters.js';

export type ModelInferResponseInit = MessageInitShape<typeof ModelInferResponseSchema>;
type OutputInit = NonNullable<ModelInferResponseInit['outputs']>[number];

function findOutput(resp: InferResponse, name: string): Tensor {
  const outs = resp.outputs;
  for (let i = 0; i < outs.length; i++) if (outs[i].name === name) return outs[i];
  throw new GatewayError('SY_ERR_INFERENCE_FAILED', `output "${name}" was requested but the model did not return it`);
}

function rawOf(t: Tensor): Uint8Array {
  if (t.datatype !== 'BYTES') return rawBytes(t.data as NumericArray);
  const out = Buffer.allocUnsafe(binaryByteLength(t));
  writeBinaryTensor(t, out, 0);
  return out;
}

function shapeOf(shape: readonly number[]): bigint[] {
  const out = new Array<bigint>(shape.length);
  for (let i = 0; i < shape.length; i++) out[i] = BigInt(shape[i]);
  return out;
}

/** One answered output: its tensor, the parameters it is answered with, whether its bytes go in raw contents. */
interface OutputPlan {
  tensor: Tensor;
  parameters: Record<string, unknown> | null;
  /** a parameter of the tensor's not answered (binary_data_size is REST's alone) */
  skip: string | null;
  /** false: written into its shared memory region; an empty raw entry, as Triton sends */
  raw: boolean;
}

function plan(resp: InferResponse, req: InferRequest): OutputPlan[] {
  const tensors = selected(resp, req);
  const out = new Array<OutputPlan>(tensors.length);
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    const shm = req.outputs !== null && isSharedMemoryOutput(req.outputs[i]);
    out[i] = shm
      ? { tensor: t, parameters: sharedMemoryOutputParameters((req.outputs as RequestedOutput[])[i]), skip: null, raw: false }
      : { tensor: t, parameters: t.parameters, skip: 'binary_data_size', raw: true };
  }
  return out;
}

/** The tensors to answer with, in answer order. */
function selected(resp: InferResponse, req: InferRequest): Tensor[] {
  const listed = req.outputs;
  if (listed === null) return resp.outputs;
  const out = new Array<Tensor>(listed.length);
  for (let i = 0; i < listed.length; i++) out[i] = findOutput(resp, listed[i].name);
  return out;
}

export function encodeModelInferResponse(resp: InferResponse, req: InferRequest): ModelInferResponseInit {
  const outs = plan(resp, req);
  const outputs = new Array<OutputInit>(outs.length);
  const rawContents = new Array<Uint8Array>(outs.length);
  for (let i = 0; i < outs.length; i++) {
    const o = outs[i];
    const t = o.tensor;
    outputs[i] = { name: t.name, datatype: t.datatype, shape: shapeOf(t.shape), parameters: writeParameters(o.parameters, o.skip) };
    rawContents[i] = o.raw ? rawOf(t) : new Uint8Array(0);
  }
  return {
    modelName: resp.modelName,
    modelVersion: resp.modelVersion,
    id: resp.id,
    parameters: writeParameters(resp.parameters),
    outputs,
    rawOutputContents: rawContents,
  };
}

// ---- the wire form ----------------------------------------------------------------------
// ModelInferResponse: model_name 1, model_version 2, id 3, parameters 4 (map), outputs 5,
// raw_output_contents 6. InferOutputTensor: name 1, datatype 2, shape 3 (packed int64),
// parameters 4. A map entry: key 1, value 2. InferParameter (oneof): bool 1, int64 2,
// string 3, double 4. Values are written as parameters.ts's writeParameters chooses them.

/** A parameter value as the InferParameter field it is written to, with its payload's size. */
interface ParamValue {
  field: number;
  /** bool / int64: the value; string: the text; double: the number */
  value: boolean | bigint | string | number;
  /** bytes of the InferParameter message */
  size: number;
  /** UTF-8 bytes of a string value */
  textBytes: number;
}

function paramValue(v: unknown): ParamValue {
  switch (typeof v) {
    case 'boolean':
      return { field: 1, value: v, size: 2, textBytes: 0 };
    case 'bigint':
      return { field: 2, value: v, size: 1 + int64Size(v), textBytes: 0 };
    case 'number':
      if (Number.isSafeInteger(v)) {
        const b = BigInt(v);
        return { field: 2, value: b, size: 1 + int64Size(b), textBytes: 0 };
      }
      return { field: 4, value: v, size: 9, textBytes: 0 };
    default: {
      const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
      const n = Buffer.byteLength(text, 'utf8');
      return { field: 3, value: text, size: lenFieldSize(n), textBytes: n };
    }
  }
}

interface ParamEntry {
  key: string;
  keyBytes: number;
  value: ParamValue;
  /** bytes of the map entry message */
  size: number;
}

/** The map's entries (null when none), in the key order writeParameters uses. */
function paramEntries(params: Record<string, unknown> | null, skip: string | null, extra: Record<string, unknown> | null): ParamEntry[] | null {
  let out: ParamEntry[] | null = null;
  const add = (key: string, v: unknown): void => {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    const value = paramValue(v);
    (out ??= []).push({ key, keyBytes, value, size: lenFieldSize(keyBytes) + lenFieldSize(value.size) });
  };
  if (params !== null) for (const key of Object.keys(params)) if (key !== skip && (extra === null || !(key in extra))) add(key, params[key]);
  if (extra !== null) for (const key of Object.keys(extra)) add(key, extra[key]);
  return out;
}

function mapSize(entries: ParamEntry[] | null): number {
  if (entries === null) return 0;
  let n = 0;
  for (let i = 0; i < entries.length; i++) n += lenFieldSize(entries[i].size);
  return n;
}

function writeMap(w: ProtoWriter, field: number, entries: ParamEntry[] | null): void {
  if (entries === null) return;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    w.lenHeader(field, e.size);
    w.string(1, e.key, e.keyBytes);
    const v = e.value;
    w.lenHeader(2, v.size);
    switch (v.field) {
      case 1:
        w.tag(1, WIRE_VARINT);
        w.varint(v.value === true ? 1 : 0);
        break;
      case 2:
        w.tag(2, WIRE_VARINT);
        w.int64(v.value as bigint);
        break;
      case 4:
        w.double(4, v.value as number);
        break;
      default:
        w.string(3, v.value as string, v.textBytes);
    }
  }
}

/** A string field's size, 0 when empty (proto3 leaves empty strings out). */
function stringFieldSize(bytes: number): number {
  return bytes === 0 ? 0 : lenFieldSize(bytes);
}

function shapeBytes(shape: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < shape.length; i++) n += shape[i] >= 0 ? varintSize(shape[i]) : 10;
  return n;
}

interface OutputSizes {
  nameBytes: number;
  datatypeBytes: number;
  shapeBytes: number;
  params: ParamEntry[] | null;
  /** bytes of the InferOutputTensor message */
  size: number;
  /** bytes of its raw contents entry */
  rawBytes: number;
}

/**
 * The ModelInferResponse `resp` answers `req` with, as wire bytes. `extra` parameters are
 * added to the response's own (they win on a shared key): the stream's final-response flag.
 */
export function modelInferResponseBytes(resp: InferResponse, req: InferRequest, extra: Record<string, unknown> | null = null): Buffer {
  const outs = plan(resp, req);
  const sizes = new Array<OutputSizes>(outs.length);
  const nameBytes = Buffer.byteLength(resp.modelName, 'utf8');
  const versionBytes = Buffer.byteLength(resp.modelVersion, 'utf8');
  const idBytes = Buffer.byteLength(resp.id, 'utf8');
  const params = paramEntries(resp.parameters, null, extra);
  let total = stringFieldSize(nameBytes) + stringFieldSize(versionBytes) + stringFieldSize(idBytes) + mapSize(params);
  for (let i = 0; i < outs.length; i++) {
    const o = outs[i];
    const t = o.tensor;
    const s: OutputSizes = {
      nameBytes: Buffer.byteLength(t.name, 'utf8'),
      datatypeBytes: t.datatype.length,
      shapeBytes: shapeBytes(t.shape),
      params: paramEntries(o.parameters, o.skip, null),
      size: 0,
      rawBytes: o.raw ? binaryByteLength(t) : 0,
    };
    s.size = stringFieldSize(s.nameBytes) + stringFieldSize(s.datatypeBytes) + (s.shapeBytes === 0 ? 0 : lenFieldSize(s.shapeBytes)) + mapSize(s.params);
    sizes[i] = s;
    total += lenFieldSize(s.size) + lenFieldSize(s.rawBytes);
  }
  const w = new ProtoWriter(total);
  if (nameBytes > 0) w.string(1, resp.modelName, nameBytes);
  if (versionBytes > 0) w.string(2, resp.modelVersion, versionBytes);
  if (idBytes > 0) w.string(3, resp.id, idBytes);
  writeMap(w, 4, params);
  for (let i = 0; i < outs.length; i++) {
    const s = sizes[i];
    const t = outs[i].tensor;
    w.lenHeader(5, s.size);
    if (s.nameBytes > 0) w.string(1, t.name, s.nameBytes);
    if (s.datatypeBytes > 0) w.string(2, t.datatype, s.datatypeBytes);
    if (s.shapeBytes > 0) {
      w.lenHeader(3, s.shapeBytes);
      for (const d of t.shape) if (d >= 0) w.varint(d);
      else w.int64(BigInt(d));
    }
    writeMap(w, 4, s.params);
  }
  for (let i = 0; i < outs.length; i++) {
    const s = sizes[i];
    w.lenHeader(6, s.rawBytes);
    if (s.rawBytes === 0) continue;
    const t = outs[i].tensor;
    if (t.datatype === 'BYTES') writeBinaryTensor(t, w.buf, w.pos);
    else w.buf.set(rawBytes(t.data as NumericArray), w.pos);
    w.pos += s.rawBytes;
  }
  if (w.pos !== total) throw new GatewayError('SY_ERR_INTERNAL', `ModelInferResponse encoder wrote ${w.pos} of ${total} bytes`);
  return w.buf;
}
