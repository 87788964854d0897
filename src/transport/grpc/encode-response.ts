/**
 * InferResponse → ModelInferResponse (as an init object; the service definition encodes it).
 *
 * Outputs are the ones the request listed, in its order (all of them, in the model's order,
 * when it listed none). As Triton does, they always go in `raw_output_contents`, whichever
 * form the request used (typed `contents` in a response break hand-written stubs and Triton's
 * explicit-content examples, which read only the raw bytes). Raw fixed-size outputs are views
 * of the response tensors (the encoder copies them into the message); BYTES are laid out as
 * 4-byte little-endian lengths followed by the bytes, as in the binary extension.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { GatewayError, type InferRequest, type InferResponse, type NumericArray, type RequestedOutput, type Tensor } from '../../core/index.js';
import type { ModelInferResponseSchema } from '../../gen/grpc_service_pb.js';
import { binaryByteLength, isSharedMemoryOutput, sharedMemoryOutputParameters, writeBinaryTensor } from '../../protocol/index.js';
import { rawBytes } from './contents.js';
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
  const outputs = new Array<OutputInit>(tensors.length);
  const rawContents = new Array<Uint8Array>(tensors.length);
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    // written into its shared memory region: its parameters, no contents (an empty raw entry, as Triton sends)
    const shm = req.outputs !== null && isSharedMemoryOutput(req.outputs[i]);
    outputs[i] = {
      name: t.name,
      datatype: t.datatype,
      shape: shapeOf(t.shape),
      parameters: shm ? writeParameters(sharedMemoryOutputParameters((req.outputs as RequestedOutput[])[i])) : writeParameters(t.parameters, 'binary_data_size'),
    };
    rawContents[i] = shm ? new Uint8Array(0) : rawOf(t);
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
