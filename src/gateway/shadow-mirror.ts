import { performance } from 'node:perf_hooks';
import { GatewayError, InferRequest, toGatewayError, type InferResponse } from '../core/index.js';
import { PipelineContext } from './pipeline-context.js';
import type { LoadedVersion } from '../repository/index.js';
import type { Decision, Router, Target } from '../routing/index.js';
import type { Tracing } from '../telemetry/index.js';

/**
 * The gateway's pipeline steps a shadow copy goes through, as a primary request does:
 * resolve its target, execute (validate, deadline, enqueue), record (request log, drift).
 */
export interface ShadowMirrorOptions {
  readonly resolve: (t: Target) => LoadedVersion;
  readonly execute: (req: InferRequest, target: LoadedVersion, label: string) => Promise<InferResponse>;
  readonly record: (req: InferRequest, target: LoadedVersion | null, resp: InferResponse | null, err: GatewayError | null, ctx: PipelineContext) => void;
  readonly tracing: Tracing;
  readonly router: Router;
  /** copies running at once; beyond it new ones are dropped and counted (shadow.max_inflight) */
  readonly maxInflight: number;
  /** true once the gateway stops: no new copies */
  readonly draining: () => boolean;
}

/**
 * Shadow traffic: once a routed request has its answer, a copy goes to each shadow target
 * of its route at the lowest priority level (InferRequest.shadow), never awaited by the
 * client. The copy shares the primary's input tensors (the batcher copies inputs into its
 * own batch buffers, so nobody writes them) and its answer is compared with the primary's.
 */
export class ShadowMirror {
  private readonly opts: ShadowMirrorOptions;
  private inflight = 0;

  constructor(opts: ShadowMirrorOptions) {
    this.opts = opts;
  }

  /**
   * Sends a copy of a served request to each shadow target of its route: lowest priority,
   * never awaited, bounded (shadow.max_inflight); each copy is logged (shadow: true) and its
   * outputs compared with the primary's.
   */
  mirror(req: InferRequest, resp: InferResponse, d: Decision, ctx: PipelineContext): void {
    for (const t of d.shadows) {
      if (this.inflight >= this.opts.maxInflight || this.opts.draining()) {
        this.opts.router.recordShadow(d, t, { kind: 'dropped' });
        continue;
      }
      this.inflight++;
      this.run(req, resp, d, t, ctx).finally(() => {
        this.inflight--;
      });
    }
  }

  private async run(primary: InferRequest, resp: InferResponse, d: Decision, t: Target, parent: PipelineContext): Promise<void> {
    const req = new InferRequest(t.model, t.version, primary.inputs, primary.protocol, performance.now());
    req.id = primary.id;
    req.shadow = true;
    req.outputs = primary.outputs;
    const ctx = new PipelineContext(parent.span);
    ctx.shadow = true;
    ctx.route = d.route;
    ctx.policy = d.policy;
    ctx.target = t.key;
    const tracing = this.opts.tracing;
    const span = tracing.startSpan(parent.span, 'shadow_call', { 'switchyard.target': t.key });
    let target: LoadedVersion | null = null;
    try {
      target = this.opts.resolve(t);
      const out = await this.opts.execute(req, target, `shadow target "${t.key}"`);
      this.opts.router.recordShadow(d, t, { kind: 'compared', primary: resp.outputs, shadow: out.outputs });
      this.opts.record(req, target, out, null, ctx);
      tracing.endSpan(span);
    } catch (e) {
      const err = toGatewayError(e);
      this.opts.router.recordShadow(d, t, { kind: err.code === 'SY_ERR_QUEUE_FULL' ? 'dropped' : 'failed' });
      this.opts.record(req, target, null, err, ctx);
      tracing.endSpan(span, err.message);
    }
  }
}
