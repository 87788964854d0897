import { performance } from 'node:perf_hooks';
import type { InferRequest } from '../../core/index.js';
import type { CallContext } from './call.js';

/**
 * Carries the call's deadline (grpc-timeout) into the request, on the performance.now()
 * clock the batcher uses: a request still queued when it passes is dropped, never run, and
 * fails with DEADLINE_EXCEEDED.
 */
export function applyDeadline(req: InferRequest, call: { getDeadline(): Date | number }): void {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  if (Number.isFinite(at)) req.deadline = performance.now() + (at - Date.now());
}

/**
 * What a call carries for the pipeline besides the message: its deadline and the W3C
 * `traceparent` of the caller's trace, when it sent one.
 */
export function applyCallContext(req: InferRequest, call: Pick<CallContext, 'getDeadline' | 'header'>, routing: RoutingHeaders): void {
  applyDeadline(req, call);
  const traceparent = call.header('traceparent');
  if (traceparent !== '') req.traceparent = traceparent;
  if (!routing.isRoute(req.modelName)) return;
  for (const name of routing.routingHeaders()) {
    const v = call.header(name);
    if (v !== '') (req.headers ??= {})[name] = v;
  }
}

/** What the gateway says about routes: which names are routes, which headers they read. */
export interface RoutingHeaders {
  isRoute(name: string): boolean;
  routingHeaders(): readonly string[];
}
