/**
 * ModelInfer: one request per call. The client's deadline goes into the batcher with the
 * request, and a cancelled call (client gone, deadline passed) takes its request out of the
 * queue. Errors end the call with the registry's status (see status.ts).
 */
import { performance } from 'node:perf_hooks';
import type { InferRequest } from '../../core/index.js';
import type { Gateway } from '../../gateway.js';
import type { ModelInferRequest } from '../../gen/grpc_service_pb.js';
import { applyCallContext } from './deadline.js';
import { decodeModelInferRequest } from './decode-request.js';
import { modelInferResponseBytes } from './encode-response.js';
import type { UnaryCall } from './call.js';
import { statusOf } from './status.js';

/** Answers are wire bytes (encode-response.ts), which the method's encoder passes through. */
export type ModelInferCall = UnaryCall<ModelInferRequest, Uint8Array>;

export function modelInferHandler(g: Gateway): (call: ModelInferCall) => void {
  const log = g.log;
  return (call) => {
    let req: InferRequest;
    const m = call.request;
    const receivedAt = performance.now();
    try {
      req = decodeModelInferRequest(m, receivedAt);
    } catch (e) {
      call.fail(statusOf(g.rejected({ protocol: 'grpc', model: m.modelName, version: m.modelVersion === '' ? null : m.modelVersion, id: m.id, receivedAt }, e), log, 'ModelInfer'));
      return;
    }
    applyCallContext(req, call, g);
    call.cancels(req);
    g.infer(req).then(
      (resp) => {
        let out: Buffer;
        try {
          out = modelInferResponseBytes(resp, req);
        } catch (e) {
          call.fail(statusOf(e, log, 'ModelInfer'));
          return;
        }
        call.reply(out);
      },
      (e: unknown) => call.fail(statusOf(e, log, 'ModelInfer')),
    );
  };
}
