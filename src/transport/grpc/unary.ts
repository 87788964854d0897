/**
 * A unary handler from a plain function of the request: a return value (or resolved
 * promise) is the reply, a throw (or rejection) ends the call with the error's status.
 */
import type { Logger } from '../../core/index.js';
import type { CallContext, UnaryCall } from './call.js';
import { statusOf } from './status.js';

export type UnaryFn<Req, Res> = (request: Req, call: CallContext) => Res | Promise<Res>;
export type UnaryHandler<Req, Res> = (call: UnaryCall<Req, Res>) => void;

export function unary<Req, Res>(log: Logger, rpc: string, fn: UnaryFn<Req, Res>): UnaryHandler<Req, Res> {
  return (call) => {
    let out: Res | Promise<Res>;
    try {
      out = fn(call.request, call);
    } catch (e) {
      call.fail(statusOf(e, log, rpc));
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (v) => call.reply(v),
        (e: unknown) => call.fail(statusOf(e, log, rpc)),
      );
    } else {
      call.reply(out);
    }
  };
}
