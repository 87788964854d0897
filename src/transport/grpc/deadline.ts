import { performance } from 'node:perf_hooks';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { InferRequest } from '../../core/index.js';

/**
 * Carries the call's deadline (grpc-timeout) into the request, on the performance.now()
 * clock the batcher uses: a request still queued when it passes is dropped, never run, and
 * fails with DEADLINE_EXCEEDED.
 */
export function applyDeadline(req: InferRequest, call: Pick<ServerUnaryCall<unknown, unknown>, 'getDeadline'>): void {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  if (Number.isFinite(at)) req.deadline = performance.now() + (at - Date.now());
}
