/**
 * GatewayError → gRPC status, only through the error registry (src/core/errors.ts): the
 * status code is the error's `grpcStatus`, the details its message, and the trailers carry
 * the stable error code (`switchyard-error-code`) and, for 429/503-like errors, how long to
 * wait before retrying (`retry-after`, seconds), as the REST door's headers do.
 */
import { toGatewayError, type Logger } from '../../core/index.js';
import type { CallStatus } from './grpc-wire.js';

export const ERROR_CODE_KEY = 'switchyard-error-code';
export const RETRY_AFTER_KEY = 'retry-after';

/** The status to end a call with. Unknown faults are logged and become INTERNAL. */
export function statusOf(e: unknown, log: Logger, context: string): CallStatus {
  const err = toGatewayError(e);
  if (err !== e && err.code === 'SY_ERR_INTERNAL') log.error('internal error', { rpc: context, err: e });
  const metadata: Record<string, string> = { [ERROR_CODE_KEY]: err.code };
  if (err.retryAfterS !== null) metadata[RETRY_AFTER_KEY] = String(err.retryAfterS);
  return { code: err.grpcStatus, details: err.message, metadata };
}
