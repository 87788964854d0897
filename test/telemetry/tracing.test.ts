import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { Tracing, startTracing, tracingRequested } from '../../src/telemetry/tracing.js';
import { recordingLogger } from './helpers.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

function inMemory(): { tracing: Tracing; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracing: Tracing.withTracer(provider.getTracer('test'), () => provider.shutdown()), exporter };
}

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const attrs = (id: string) => ({ requestId: id, model: 'tabular', protocol: 'rest' });

describe('tracing', () => {
  it('a request span continues the caller trace (W3C traceparent) and parents its feature, queue and shadow spans', () => {
    const { tracing, exporter } = inMemory();
    const req = tracing.startRequestSpan(TRACEPARENT, attrs('r1'), 'vendor=abc');
    expect(req).not.toBeNull();
    expect(tracing.traceId(req)).toBe(TRACE_ID);
    const features = tracing.startSpan(req, 'feature_lookup', { 'switchyard.entities': 1 });
    tracing.endSpan(features);
    const t0 = performance.now();
    tracing.recordSpan(req, 'queue_wait', t0 - 2, t0);
    const shadow = tracing.startSpan(req, 'shadow_call');
    tracing.endSpan(shadow, 'SY_ERR_QUEUE_FULL');
    tracing.endRequestSpan(req, { version: '2', status: 'success', error: null, route: 'fraud', target: 'tabular/2' });

    const spans = exporter.getFinishedSpans();
    const [infer] = byName(spans, 'infer');
    expect(infer.kind).toBe(SpanKind.SERVER);
    expect(infer.spanContext().traceId).toBe(TRACE_ID);
    expect(infer.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(infer.parentSpanContext?.isRemote).toBe(true);
    expect(infer.attributes).toMatchObject({ 'switchyard.request_id': 'r1', 'switchyard.model': 'tabular', 'switchyard.version': '2', 'switchyard.status': 'success', 'switchyard.route': 'fraud' });
    for (const name of ['feature_lookup', 'queue_wait', 'shadow_call']) {
      const [child] = byName(spans, name);
      expect(child.spanContext().traceId, name).toBe(TRACE_ID);
      expect(child.parentSpanContext?.spanId, name).toBe(infer.spanContext().spanId);
    }
    const [queue] = byName(spans, 'queue_wait');
    const ms = (t: [number, number]) => t[0] * 1e3 + t[1] / 1e6;
    expect(ms(queue.endTime) - ms(queue.startTime)).toBeCloseTo(2, 1);
    expect(byName(spans, 'shadow_call')[0].status.code).toBe(SpanStatusCode.ERROR);
  });

  it('without a (valid) traceparent a request starts a new trace', () => {
    const { tracing, exporter } = inMemory();
    for (const header of [null, 'garbage', `00-${'0'.repeat(32)}-${PARENT_ID}-01`]) {
      const span = tracing.startRequestSpan(header, attrs('r'));
      tracing.endRequestSpan(span, { version: null, status: 'SY_ERR_MODEL_NOT_FOUND', error: 'unknown model' });
    }
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(3);
    for (const s of spans) {
      expect(s.parentSpanContext).toBeUndefined();
      expect(s.spanContext().traceId).not.toBe(TRACE_ID);
      expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'unknown model' });
    }
  });

  it('a batch span is a root span linked to every request in the batch, and each request links back to it', () => {
    const { tracing, exporter } = inMemory();
    const a = tracing.startRequestSpan(TRACEPARENT, attrs('a'));
    const b = tracing.startRequestSpan(null, attrs('b'));
    const batch = tracing.startBatchSpan([a, null, b], { model: 'tabular', version: '1', items: 5 });
    tracing.endSpan(batch);
    tracing.endRequestSpan(a, { version: '1', status: 'success', error: null });
    tracing.endRequestSpan(b, { version: '1', status: 'success', error: null });

    const spans = exporter.getFinishedSpans();
    const [batchSpan] = byName(spans, 'batch');
    expect(batchSpan.parentSpanContext).toBeUndefined();
    expect(batchSpan.attributes).toMatchObject({ 'switchyard.batch.size': 5, 'switchyard.batch.requests': 2 });
    const requests = byName(spans, 'infer');
    expect(batchSpan.links.map((l) => l.context.spanId).sort()).toEqual(requests.map((r) => r.spanContext().spanId).sort());
    expect(batchSpan.links.map((l) => l.context.traceId).sort()).toEqual(requests.map((r) => r.spanContext().traceId).sort());
    for (const r of requests) expect(r.links.map((l) => l.context.spanId)).toEqual([batchSpan.spanContext().spanId]);
    expect(tracing.startBatchSpan([null], { model: 'tabular', version: '1', items: 1 })).toBeNull();
  });

  it('off, every helper is a no-op and nothing is recorded', () => {
    const off = Tracing.disabled;
    expect(off.enabled).toBe(false);
    const span = off.startRequestSpan(TRACEPARENT, attrs('x'));
    expect(span).toBeNull();
    expect(off.startSpan(span, 'feature_lookup')).toBeNull();
    expect(off.startBatchSpan([span], { model: 'm', version: '1', items: 1 })).toBeNull();
    expect(off.traceId(span)).toBeNull();
    off.recordSpan(span, 'queue_wait', 0, 1);
    off.endRequestSpan(span, { version: null, status: 'success', error: null });
  });

  it('is on only when the standard environment asks for traces', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'gw' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console,otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
  });
});

describe('startTracing', () => {
  afterEach(() => trace.disable());

  it('returns the no-op tracing when the environment does not ask for traces', async () => {
    expect(await startTracing({ log: recordingLogger(), env: {} })).toBe(Tracing.disabled);
  });

  it('starts the OpenTelemetry Node SDK once per process, named switchyard, and exports on shutdown', async () => {
    // InMemorySpanExporter forgets its spans on shutdown: keep them to look at afterwards
    const exporter = new (class extends InMemorySpanExporter {
      override shutdown(): Promise<void> {
        return Promise.resolve();
      }
    })();
    const log = recordingLogger();
    const env = { OTEL_TRACES_EXPORTER: 'otlp' };
    const tracing = await startTracing({ log, env, exporter });
    expect(tracing.enabled).toBe(true);
    expect(await startTracing({ log, env, exporter })).toBe(tracing);
    const span = tracing.startRequestSpan(TRACEPARENT, attrs('sdk'));
    tracing.endRequestSpan(span, { version: '1', status: 'success', error: null });
    await tracing.shutdown();
    const [exported] = exporter.getFinishedSpans();
    expect(exported.spanContext().traceId).toBe(TRACE_ID);
    expect(exported.resource.attributes['service.name']).toBe('switchyard');
    expect(log.lines.some((l) => l.msg === 'OpenTelemetry tracing on')).toBe(true);
  });
});
