/**
 * A unary grpc-js handler from a plain function of the request: a return value (or resolved
 * promise) is the reply, a throw (or rejection) ends the call with the error's status.
 */
import type { ServerUnaryCall, handleUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '../../telemetry/index.js';
import { statusOf } from './status.js';

export type UnaryFn<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

export function unary<Req, Res>(log: Logger, rpc: string, fn: UnaryFn<Req, Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let out: Res | Promise<Res>;
    try {
      out = fn(call.request, call);
    } catch (e) {
      callback(statusOf(e, log, rpc));
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (v) => callback(null, v),
        (e: unknown) => callback(statusOf(e, log, rpc)),
      );
    } else {
      callback(null, out);
    }
  };
}
