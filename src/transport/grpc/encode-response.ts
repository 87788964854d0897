/**
 * InferResponse → ModelInferResponse (as an init object; the service definition encodes it).
 *
 * Outputs are the ones the request listed, in its order (all of them, in the model's order,
 * when it listed none). They go in `raw_output_contents` when the request sent raw inputs
 * (`req.binaryOutputs`, set by the decoder) or when an output has no typed contents field
 * (FP16): the two forms cannot be mixed in one response. Raw fixed-size outputs are views of
 * the response tensors (the encoder copies them into the message); BYTES are laid out as
 * 4-byte little-endian lengths followed by the bytes, as in the binary extension.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { GatewayError, type InferRequest, type InferResponse, type NumericArray, type Tensor } from '../../core/index.js';
import type { ModelInferResponseSchema } from '../../gen/grpc_service_pb.js';
import { binaryByteLength, writeBinaryTensor } from '../../protocol/index.js';
import { hasTypedContents, rawBytes, writeContents } from './contents.js';
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

/** The tensors to answer with, in answer order. */
function selected(resp: InferResponse, req: InferRequest): Tensor[] {
  const listed = req.outputs;
  if (listed === null) return resp.outputs;
  const out = new Array<Tensor>(listed.length);
  for (let i = 0; i < listed.length; i++) out[i] = findOutput(resp, listed[i].name);
  return out;
}

export function encodeModelInferResponse(resp: InferResponse, req: InferRequest): ModelInferResponseInit {
  const tensors = selected(resp, req);
  let raw = req.binaryOutputs;
  for (let i = 0; i < tensors.length && !raw; i++) if (!hasTypedContents(tensors[i].datatype)) raw = true;

  const outputs = new Array<OutputInit>(tensors.length);
  const rawContents: Uint8Array[] = raw ? new Array<Uint8Array>(tensors.length) : [];
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    outputs[i] = {
      name: t.name,
      datatype: t.datatype,
      shape: shapeOf(t.shape),
      parameters: writeParameters(t.parameters, 'binary_data_size'),
      contents: raw ? undefined : writeContents(t.datatype, t.data),
    };
    if (raw) rawContents[i] = rawOf(t);
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
