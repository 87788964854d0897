/**
 * Tracing with OpenTelemetry. Off unless the standard environment asks for it
 * (tracingRequested): then startTracing() loads @opentelemetry/sdk-node, which reads the
 * rest of the standard variables itself (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME,
 * OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_PROTOCOL…). Off, every helper returns at once
 * after one boolean check, and the SDK is never loaded.
 *
 * Spans (parents passed explicitly, no reliance on an active context):
 *   infer            SERVER, one per request; child of the client's W3C traceparent if any
 *   ├ feature_lookup  entity ids → feature store
 *   ├ queue_wait      enqueued → batch dispatched
 *   └ shadow_call     a shadow copy of the request
 *   batch            one per executed batch, a root span linked to every request in it
 *                    (and each request span links back to it)
 * The request span's trace id goes into the request log record (traceId()).
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { TraceState, parseTraceParent } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../core/index.js';

export type ChildSpanName = 'feature_lookup' | 'queue_wait' | 'shadow_call';

export interface RequestSpanAttributes {
  readonly requestId: string;
  /** the model or route the client called */
  readonly model: string;
  readonly protocol: string;
}

export interface BatchSpanAttributes {
  readonly model: string;
  readonly version: string;
  /** rows in the batch */
  readonly items: number;
}

/** A traced request: its span and the context that makes it the parent of child spans. */
export class RequestSpan {
  readonly span: Span;
  readonly context: Context;

  constructor(span: Span, context: Context) {
    this.span = span;
    this.context = context;
  }
}

/** How a request ended, for its span. */
export interface RequestOutcome {
  /** the version that served it, or null */
  readonly version: string | null;
  /** 'success' or the GatewayError code */
  readonly status: string;
  readonly error: string | null;
  /** the route and target when a routing policy decided */
  readonly route?: string | null;
  readonly target?: string | null;
}

export class Tracing {
  /** Tracing off: every helper is a no-op. */
  static readonly disabled = new Tracing(null, null);

  readonly enabled: boolean;
  private readonly tracer: Tracer | null;
  private readonly shutdownFn: (() => Promise<void>) | null;

  private constructor(tracer: Tracer | null, shutdown: (() => Promise<void>) | null) {
    this.tracer = tracer;
    this.enabled = tracer !== null;
    this.shutdownFn = shutdown;
  }

  /** Tracing into a tracer of the caller's (tests: a BasicTracerProvider with an InMemorySpanExporter). */
  static withTracer(tracer: Tracer, shutdown: (() => Promise<void>) | null = null): Tracing {
    return new Tracing(tracer, shutdown);
  }

  /**
   * Starts the span of one request. `traceparent` (W3C header) makes it a child of the
   * caller's span; an invalid or absent header starts a new trace. Returns null when
   * tracing is off.
   */
  startRequestSpan(traceparent: string | null, attrs: RequestSpanAttributes, tracestate: string | null = null, startTime?: number): RequestSpan | null {
    const tracer = this.tracer;
    if (tracer === null) return null;
    const parent = traceparent === null ? ROOT_CONTEXT : remoteParent(traceparent, tracestate);
    const span = tracer.startSpan(
      'infer',
      {
        kind: SpanKind.SERVER,
        startTime,
        attributes: { 'switchyard.request_id': attrs.requestId, 'switchyard.model': attrs.model, 'switchyard.protocol': attrs.protocol },
      },
      parent,
    );
    return new RequestSpan(span, trace.setSpan(parent, span));
  }

  /** Ends a request span with its outcome (an error sets the span status to ERROR). */
  endRequestSpan(handle: RequestSpan | null, outcome: RequestOutcome, endTime?: number): void {
    if (handle === null) return;
    const span = handle.span;
    if (outcome.version !== null) span.setAttribute('switchyard.version', outcome.version);
    if (outcome.route !== undefined && outcome.route !== null) span.setAttribute('switchyard.route', outcome.route);
    if (outcome.target !== undefined && outcome.target !== null) span.setAttribute('switchyard.target', outcome.target);
    span.setAttribute('switchyard.status', outcome.status);
    if (outcome.status !== 'success') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error ?? outcome.status });
    span.end(endTime);
  }

  /** Starts a child span of a request (feature lookup, shadow call); end it with endSpan(). */
  startSpan(parent: RequestSpan | null, name: ChildSpanName, attributes?: Attributes, startTime?: number): Span | null {
    if (parent === null || this.tracer === null) return null;
    return this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, startTime }, parent.context);
  }

  /** Records a child span whose start and end are already known (queue wait); times as performance.now(). */
  recordSpan(parent: RequestSpan | null, name: ChildSpanName, startTime: number, endTime: number, attributes?: Attributes): void {
    if (parent === null || this.tracer === null) return;
    this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, startTime }, parent.context).end(endTime);
  }

  /**
   * Starts the span of one executed batch: a root span linked to the span of every traced
   * request in it, and each of those linked back to it. Returns null when tracing is off or
   * no request in the batch is traced.
   */
  startBatchSpan(requests: readonly (RequestSpan | null)[], attrs: BatchSpanAttributes, startTime?: number): Span | null {
    const tracer = this.tracer;
    if (tracer === null) return null;
    const links: Link[] = [];
    for (const r of requests) if (r !== null) links.push({ context: r.span.spanContext() });
    if (links.length === 0) return null;
    const span = tracer.startSpan(
      'batch',
      {
        kind: SpanKind.INTERNAL,
        root: true,
        links,
        startTime,
        attributes: { 'switchyard.model': attrs.model, 'switchyard.version': attrs.version, 'switchyard.batch.size': attrs.items, 'switchyard.batch.requests': links.length },
      },
      ROOT_CONTEXT,
    );
    const back: Link = { context: span.spanContext() };
    for (const r of requests) if (r !== null) r.span.addLink(back);
    return span;
  }

  /** Ends a child or batch span; an error sets its status to ERROR. */
  endSpan(span: Span | null, error: string | null = null, endTime?: number): void {
    if (span === null) return;
    if (error !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    span.end(endTime);
  }

  /** The trace id of a request (32 hex digits), or null when it is not traced. */
  traceId(handle: RequestSpan | null): string | null {
    return handle === null ? null : handle.span.spanContext().traceId;
  }

  /** Flushes and stops the exporter (when this Tracing started one). */
  async shutdown(): Promise<void> {
    if (this.shutdownFn !== null) await this.shutdownFn();
  }
}

function remoteParent(traceparent: string, tracestate: string | null): Context {
  const parsed = parseTraceParent(traceparent.trim());
  if (parsed === null) return ROOT_CONTEXT;
  const context: SpanContext = { ...parsed, isRemote: true };
  if (!trace.isSpanContextValid(context)) return ROOT_CONTEXT;
  if (tracestate !== null && tracestate !== '') context.traceState = new TraceState(tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, context);
}

const isTrue = (v: string | undefined): boolean => v !== undefined && v.trim().toLowerCase() === 'true';
const isSet = (v: string | undefined): boolean => v !== undefined && v.trim() !== '';

/**
 * Whether the standard environment asks for traces: not OTEL_SDK_DISABLED=true, and
 * OTEL_TRACES_EXPORTER names an exporter other than `none`, or (it being unset) an OTLP
 * endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (isTrue(env.OTEL_SDK_DISABLED)) return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '');
  if (exporters.length > 0) return exporters.some((e) => e !== 'none');
  return isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT) || isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface StartTracingOptions {
  readonly log: Logger;
  /** the environment that decides whether tracing is on (the SDK itself reads process.env) */
  readonly env?: NodeJS.ProcessEnv;
  /** an exporter to use instead of the one the environment names (tests) */
  readonly exporter?: SpanExporter;
}

let active: Promise<Tracing> | null = null;

/**
 * Tracing.disabled, or (when tracingRequested) the process's one OpenTelemetry SDK, started
 * on the first call: traces only (metrics stay with Prometheus, logs with the logger),
 * service name "switchyard" unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names one.
 * Later calls share it until its shutdown().
 */
export function startTracing(opts: StartTracingOptions): Promise<Tracing> {
  const env = opts.env ?? process.env;
  if (!tracingRequested(env)) return Promise.resolve(Tracing.disabled);
  active ??= startSdk(opts, env).catch((e: unknown) => {
    active = null;
    opts.log.error('OpenTelemetry tracing failed to start; serving without traces', { err: e });
    return Tracing.disabled;
  });
  return active;
}

async function startSdk(opts: StartTracingOptions, env: NodeJS.ProcessEnv): Promise<Tracing> {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const named = isSet(env.OTEL_SERVICE_NAME) || /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    serviceName: named ? undefined : 'switchyard',
    traceExporter: opts.exporter,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  opts.log.info('OpenTelemetry tracing on', {
    exporter: opts.exporter === undefined ? (env.OTEL_TRACES_EXPORTER ?? 'otlp') : 'custom',
    endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
  });
  let stopped: Promise<void> | null = null;
  return Tracing.withTracer(trace.getTracer('switchyard'), () => {
    stopped ??= sdk.shutdown().finally(() => {
      active = null;
      trace.disable();
    });
    return stopped;
  });
}
