/**
 * The peers' Open Inference Protocol codec (servers/peer-http.ts, servers/peer-uws-inline.ts):
 * a KServe v2 JSON request, or one in Triton's binary tensor extension (the JSON header's
 * length in `inference-header-content-length`, the tensors' bytes after it in input order),
 * into onnxruntime-node feeds; a session's results into the v2 JSON answer. FP32 inputs only:
 * what the bench sends. Both peers share it, so that they differ only in their HTTP server.
 */
import * as ort from 'onnxruntime-node';

interface V2Input {
  name: string;
  datatype: string;
  shape: number[];
  data?: number[];
}

/** The feeds of one request; throws (a 400 for the caller) on a body it cannot read. */
export function feeds(body: Buffer, headerLength: number | null): Record<string, ort.Tensor> {
  const json = headerLength === null ? body.toString('utf8') : body.toString('utf8', 0, headerLength);
  const req = JSON.parse(json) as { inputs: V2Input[] };
  const out: Record<string, ort.Tensor> = {};
  let offset = headerLength ?? 0;
  for (const input of req.inputs) {
    if (input.datatype !== 'FP32') throw new Error(`input "${input.name}": only FP32 is supported by the peer`);
    const count = input.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (input.data !== undefined) data = Float32Array.from(input.data);
    else {
      // binary extension: the tensor's bytes follow the JSON header in input order
      data = new Float32Array(count);
      new Uint8Array(data.buffer).set(body.subarray(offset, offset + count * 4));
      offset += count * 4;
    }
    out[input.name] = new ort.Tensor('float32', data, input.shape);
  }
  return out;
}

/** The v2 JSON answer of one session.run() (outputs as JSON, whatever the request's form). */
export function answer(model: string, result: ort.InferenceSession.ReturnType): string {
  const outputs = Object.entries(result).map(([name, t]) => ({
    name,
    datatype: t.type === 'int64' ? 'INT64' : 'FP32',
    shape: t.dims,
    data: t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : Array.from(t.data as Float32Array),
  }));
  return JSON.stringify({ model_name: model, model_version: '1', outputs });
}

/** onnxruntime-node's version, for the ready line. */
export function ortPackageVersion(require: NodeJS.Require): string {
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}
