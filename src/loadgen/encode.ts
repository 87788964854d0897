/**
 * The request a run sends, encoded once per protocol before the load starts (the generator
 * measures the server, not its own encoding):
 *
 * - JSON (HTTP, WebSocket): KServe v2 infer request bodies with flat `data`;
 * - binary (HTTP): Triton's binary tensor extension, the JSON header with
 *   `binary_data_size` per input and `binary_data_output: true`, then the raw tensors;
 * - gRPC: a ModelInferRequest with `raw_input_contents`. Per-request ids are added by
 *   concatenating an encoded `{id}` message in front: two encoded protobuf messages one
 *   after the other decode as their merge, so the tensors are never encoded again.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { fromHalf, type Tensor } from '../core/index.js';
import { ModelInferRequestSchema } from '../gen/grpc_service_pb.js';
import { binaryByteLength, writeBinaryTensor } from '../protocol/index.js';
import type { RequestContent } from './tensors.js';

/** The JSON text of a tensor's elements, flat, row-major. */
function jsonData(t: Tensor): string {
  const d = t.data;
  if (t.datatype === 'BYTES') return JSON.stringify((d as Uint8Array[]).map((e) => Buffer.from(e).toString('utf8')));
  if (t.datatype === 'BOOL') return JSON.stringify(Array.from(d as Uint8Array, (v) => v !== 0));
  if (t.datatype === 'FP16') return JSON.stringify(Array.from(d as Uint16Array, fromHalf));
  if (t.datatype === 'INT64' || t.datatype === 'UINT64') return `[${Array.from(d as BigInt64Array, String).join(',')}]`;
  return JSON.stringify(Array.from(d as ArrayLike<number>));
}

function jsonInputs(tensors: readonly Tensor[]): string {
  return '[' + tensors.map((t) => `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":${JSON.stringify(t.shape)},"data":${jsonData(t)}}`).join(',') + ']';
}

function jsonOutputs(outputs: readonly string[], binary: boolean): string {
  if (outputs.length === 0) return '';
  const param = binary ? ',"parameters":{"binary_data":true}' : '';
  return ',"outputs":[' + outputs.map((o) => `{"name":${JSON.stringify(o)}${param}}`).join(',') + ']';
}

/** The HTTP JSON body: the --input-data file as it is, else `{"inputs": [...]}`. */
export function jsonBody(content: RequestContent): string {
  if (content.fileBody !== null) return content.fileBody;
  return `{"inputs":${jsonInputs(content.tensors)}${jsonOutputs(content.outputs, false)}}`;
}

/**
 * A WebSocket message without its id: `"model_name":…,"inputs":[…]}`. A message is
 * `{"id":"<id>",` followed by this text.
 */
export function wsMessageTail(content: RequestContent, model: string, version: string | null): string {
  const head = `"model_name":${JSON.stringify(model)}${version === null ? '' : `,"model_version":${JSON.stringify(version)}`}`;
  if (content.fileBody !== null) {
    const body = JSON.parse(content.fileBody) as Record<string, unknown>;
    delete body.id;
    delete body.model_name;
    delete body.model_version;
    const rest = JSON.stringify(body).slice(1);
    return rest === '}' ? `${head}}` : `${head},${rest}`;
  }
  return `${head},"inputs":${jsonInputs(content.tensors)}${jsonOutputs(content.outputs, false)}}`;
}

/** The HTTP body of the binary extension, and the JSON header's byte length. */
export function binaryBody(content: RequestContent): { body: Buffer; headerLength: number } {
  const inputs = content.tensors.map(
    (t) => `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":${JSON.stringify(t.shape)},"parameters":{"binary_data_size":${binaryByteLength(t)}}}`,
  );
  const header = Buffer.from(`{"inputs":[${inputs.join(',')}]${jsonOutputs(content.outputs, true)},"parameters":{"binary_data_output":true}}`, 'utf8');
  let size = header.byteLength;
  for (const t of content.tensors) size += binaryByteLength(t);
  const body = Buffer.allocUnsafe(size);
  header.copy(body, 0);
  let at = header.byteLength;
  for (const t of content.tensors) at = writeBinaryTensor(t, body, at);
  return { body, headerLength: header.byteLength };
}

/** The encoded ModelInferRequest without an id. */
export function grpcRequest(content: RequestContent, model: string, version: string | null): Buffer {
  const bodies = content.tensors.map((t) => {
    const b = Buffer.allocUnsafe(binaryByteLength(t));
    writeBinaryTensor(t, b, 0);
    return b;
  });
  const msg = create(ModelInferRequestSchema, {
    modelName: model,
    modelVersion: version ?? '',
    inputs: content.tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(BigInt) })),
    outputs: content.outputs.map((name) => ({ name })),
    rawInputContents: bodies,
  });
  return Buffer.from(toBinary(ModelInferRequestSchema, msg));
}

/** The encoded `{id}` to put in front of grpcRequest's bytes. */
export function grpcIdField(id: string): Buffer {
  return Buffer.from(toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, { id })));
}
