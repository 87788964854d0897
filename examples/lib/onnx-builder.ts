/**
 * A few helpers that build ONNX protos with `onnx-proto` (protobufjs) and encode a model.
 *
 * Tensor data always goes into `raw_data` (little-endian), so that a model's bytes depend
 * only on the numbers put in, never on how protobufjs packs repeated fields.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

export const ELEM = onnx.TensorProto.DataType;
export type ElemType = OnnxTypes.TensorProto.DataType;

/** A dimension: a fixed size, or the name of a symbolic dimension (-1 in ONNX Runtime's metadata). */
export type Dim = number | string;

export type AttrValue = number | string | number[];

/** Attribute values: an integer number becomes INT, a fractional one FLOAT, a string STRING, an array INTS. */
export function attr(name: string, value: AttrValue, asFloat = false): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (asFloat || !Number.isInteger(value)) return { name, type: T.FLOAT, f: value };
  return { name, type: T.INT, i: value };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: OnnxTypes.IAttributeProto[] = [],
): OnnxTypes.INodeProto {
  return { opType, input: inputs, output: outputs, name: outputs[0], attribute: attributes };
}

export function valueInfo(name: string, elemType: ElemType, dims: Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** A FLOAT initializer (or a scalar when dims is []). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTypes.ITensorProto {
  return { name, dims, dataType: ELEM.FLOAT, rawData: bytesOf(Float32Array.from(values)) };
}

/** An INT64 initializer (or a scalar when dims is []). */
export function int64Tensor(name: string, dims: number[], values: number[]): OnnxTypes.ITensorProto {
  return { name, dims, dataType: ELEM.INT64, rawData: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))) };
}

export interface GraphSpec {
  readonly name: string;
  readonly docString: string;
  readonly inputs: OnnxTypes.IValueInfoProto[];
  readonly outputs: OnnxTypes.IValueInfoProto[];
  readonly nodes: OnnxTypes.INodeProto[];
  readonly initializers: OnnxTypes.ITensorProto[];
}

export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
export const PRODUCER_NAME = 'switchyard-examples';

/** Encodes a ModelProto: IR version 8, default-domain opset 17, producer "switchyard-examples". */
export function encodeModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: PRODUCER_NAME,
    producerVersion: '1',
    docString: spec.docString,
    graph: {
      name: spec.name,
      input: spec.inputs,
      output: spec.outputs,
      node: spec.nodes,
      initializer: spec.initializers,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Decodes a model, for tests that inspect what was written. */
export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export interface DecodedInitializer {
  readonly name: string;
  readonly dims: number[];
  readonly dataType: number;
  /** a copy of raw_data, 0-aligned (empty when the data is held in the typed fields) */
  readonly raw: Uint8Array;
}

export interface DecodedGraph {
  readonly opTypes: string[];
  readonly initializers: Map<string, DecodedInitializer>;
}

/** The node op types and initializers of a model's graph, with protobufjs' optional fields resolved. */
export function decodeGraph(bytes: Uint8Array): DecodedGraph {
  const graph = onnx.ModelProto.decode(bytes).graph ?? {};
  const initializers = new Map<string, DecodedInitializer>();
  for (const t of graph.initializer ?? []) {
    const name = t.name ?? '';
    const raw = t.rawData ?? new Uint8Array(0);
    initializers.set(name, { name, dims: (t.dims ?? []).map(Number), dataType: t.dataType ?? 0, raw: new Uint8Array(raw) });
  }
  return { opTypes: (graph.node ?? []).map((n) => n.opType ?? ''), initializers };
}

/** The values of a FLOAT initializer stored as raw_data. */
export function floatValues(t: DecodedInitializer): Float32Array {
  if (t.dataType !== ELEM.FLOAT) throw new Error(`${t.name} is not FLOAT`);
  return new Float32Array(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength / 4);
}
