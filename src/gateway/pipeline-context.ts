import type { RequestContext, RequestSpan } from '../telemetry/index.js';

/**
 * What the pipeline decided for one request, beyond the request and its response: handed
 * to the request log, the trace and the response parameters. One per request, every field
 * assigned here (stable shape).
 */
export class PipelineContext implements RequestContext {
  span: RequestSpan | null;
  route: string | null;
  policy: string | null;
  target: string | null;
  canaryStep: number | null;
  banditArm: string | null;
  shadow: boolean;
  featuresUs: number;
  /** null when no feature lookup ran */
  featuresDefaulted: number | null;

  constructor(span: RequestSpan | null) {
    this.span = span;
    this.route = null;
    this.policy = null;
    this.target = null;
    this.canaryStep = null;
    this.banditArm = null;
    this.shadow = false;
    this.featuresUs = 0;
    this.featuresDefaulted = null;
  }
}
