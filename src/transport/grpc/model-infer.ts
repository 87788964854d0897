/**
 * ModelInfer: one request per call. The client's deadline goes into the batcher with the
 * request, and a cancelled call (client gone, deadline passed) takes its request out of the
 * queue. Errors end the call with the registry's status (see status.ts).
 */
import { performance } from 'node:perf_hooks';
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { InferRequest } from '../../core/index.js';
import type { Gateway } from '../../gateway.js';
import type { ModelInferRequest } from '../../gen/grpc_service_pb.js';
import { applyCallContext } from './deadline.js';
import { decodeModelInferRequest } from './decode-request.js';
import { modelInferResponseBytes } from './encode-response.js';
import { statusOf } from './status.js';

export function modelInferHandler(g: Gateway): handleUnaryCall<ModelInferRequest, Buffer> {
  const log = g.log;
  return (call, callback) => {
    let req: InferRequest;
    const receivedAt = performance.now();
    try {
      req = decodeModelInferRequest(call.request, receivedAt);
    } catch (e) {
      const m = call.request;
      callback(statusOf(g.rejected({ protocol: 'grpc', model: m.modelName, version: m.modelVersion === '' ? null : m.modelVersion, id: m.id, receivedAt }, e), log, 'ModelInfer'));
      return;
    }
    applyCallContext(req, call, g);
    call.once('cancelled', () => req.cancel());
    g.infer(req).then(
      (resp) => {
        let out: Buffer;
        try {
          out = modelInferResponseBytes(resp, req);
        } catch (e) {
          callback(statusOf(e, log, 'ModelInfer'));
          return;
        }
        callback(null, out);
      },
      (e: unknown) => callback(statusOf(e, log, 'ModelInfer')),
    );
  };
}
