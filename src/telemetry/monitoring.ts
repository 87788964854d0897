/**
 * Monitoring: the request log, the label join with online evaluation, drift detection and
 * tracing, built together from the server config. It subscribes to the batch events (batch
 * spans, worker deaths logged) and the model load events (a version that stops serving
 * drops its drift windows). The gateway holds one and calls:
 *   tracing.startRequestSpan(...)  when a request arrives (null when tracing is off)
 *   requestDone(...)               once per finished request and per shadow call (sync)
 *   label(id, value)               from POST /v2/feedback
 *   close()                        after the last request, before exit (flushes the log)
 * The parts are public for finer-grained use (requestLog.write, drift.observe…).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { BATCH_COMPLETE_CHANNEL, type BatchCompleteEvent } from '../batching/diagnostics.js';
import type { ServerConfig } from '../config/index.js';
import { MODEL_LOAD_CHANNEL, type ModelLoadEvent } from '../repository/diagnostics.js';
import type { GatewayError, InferRequest, InferResponse, Logger } from '../core/index.js';
import { DriftMonitor, type ObservedModel } from './drift/index.js';
import { Evaluator, type LabelOutcome } from './evaluation/index.js';
import {
  RecordPayload,
  RequestLogWriter,
  RequestRecord,
  capturePayload,
  createSinks,
  describeTensors,
  summariseOutputs,
  type OutputSummary,
  type RequestLogSink,
} from './request-log/index.js';
import { startTracing, Tracing, type RequestSpan } from './tracing.js';

export interface MonitoringOptions {
  readonly config: ServerConfig;
  /** the registry /metrics serves: the monitoring metrics are registered in it */
  readonly registry: Registry;
  readonly log: Logger;
  /** the server's shared Redis client; null = the parts that need Redis make their own from redis.url */
  readonly redis?: Redis | null;
  /** sinks to use instead of request_log.sinks (tests, bench) */
  readonly sinks?: readonly RequestLogSink[];
  /** tracing to use instead of the one the environment asks for (tests) */
  readonly tracing?: Tracing;
  /** false: no drift timer; call drift.compute() (tests) */
  readonly driftTimer?: boolean;
  /** where a model version's reference.json lies; default <model_repository>/<model>/<version> */
  readonly versionFolder?: (model: string, version: string) => string;
}

/** What the gateway knows about a request beyond the request and response. Every field is optional. */
export interface RequestContext {
  /** the route the client called, the policy that decided, what it picked */
  readonly route?: string | null;
  readonly policy?: string | null;
  readonly target?: string | null;
  readonly canaryStep?: number | null;
  readonly banditArm?: string | null;
  /** this is a shadow copy (its prediction is not remembered for the label join) */
  readonly shadow?: boolean;
  /** microseconds spent looking up features */
  readonly featuresUs?: number;
  /** feature values that took their default; null/absent when no features were looked up */
  readonly featuresDefaulted?: number | null;
  /** the request's span (its trace id goes into the record) */
  readonly span?: RequestSpan | null;
}

const NO_CONTEXT: RequestContext = Object.freeze({});

export class Monitoring {
  readonly requestLog: RequestLogWriter;
  readonly evaluator: Evaluator;
  readonly drift: DriftMonitor;
  readonly tracing: Tracing;
  readonly payloadSampleRate: number;
  private closing: Promise<void> | null = null;
  private readonly logger: Logger;
  /**
   * Per executed batch: a worker thread that died (crashed, exited, ran out of memory) fails
   * its batch and piscina starts another in its place; the log says so once per batch, not
   * once per request. With tracing, one span per batch linked from every traced request in it.
   */
  private readonly onBatch = (msg: unknown): void => {
    const m = msg as BatchCompleteEvent;
    if (m.failure !== null && m.failure.code === 'SY_ERR_WORKER_DIED') {
      this.logger.error('model instance stopped while running a batch; its requests got 503 and a new instance is starting', {
        model: m.model,
        version: m.version,
        requests: m.requests,
        cause: m.failure.cause instanceof Error ? m.failure.cause.message : String(m.failure.cause),
      });
    }
    if (m.traces !== null) {
      const s = this.tracing.startBatchSpan(m.traces as (RequestSpan | null)[], { model: m.model, version: m.version, items: m.items }, m.dispatchedAt);
      this.tracing.endSpan(s, m.error ? 'batch failed' : null, m.dispatchedAt + m.computeUs / 1000);
    }
  };
  /** A version that stopped serving: its drift windows go. */
  private readonly onModelState = (msg: unknown): void => {
    const m = msg as ModelLoadEvent;
    if (m.state !== 'READY' && m.state !== 'LOADING') this.drift.forget(m.model, m.version);
  };

  private constructor(opts: MonitoringOptions, tracing: Tracing) {
    const c = opts.config;
    const redis = opts.redis ?? null;
    const redisUrl = c.redis.url;
    this.tracing = tracing;
    this.logger = opts.log;
    this.payloadSampleRate = c.request_log.payload_sample_rate;
    this.requestLog = new RequestLogWriter({
      sinks: opts.sinks ?? createSinks(c.request_log.sinks, { redis, redisUrl }),
      bufferRecords: c.request_log.buffer_records,
      flushIntervalMs: c.request_log.flush_interval_ms,
      closeTimeoutMs: c.request_log.close_timeout_s * 1000,
      log: opts.log,
      registry: opts.registry,
    });
    this.evaluator = new Evaluator({ config: c.evaluation, log: opts.log, registry: opts.registry, redis, redisUrl });
    this.drift = new DriftMonitor({ config: c.drift, root: c.model_repository, versionFolder: opts.versionFolder, log: opts.log, registry: opts.registry, timer: opts.driftTimer });
    subscribe(BATCH_COMPLETE_CHANNEL, this.onBatch);
    subscribe(MODEL_LOAD_CHANNEL, this.onModelState);
  }

  /** Builds the monitoring of a server config; starts tracing when the environment asks for it. */
  static async create(opts: MonitoringOptions): Promise<Monitoring> {
    const tracing = opts.tracing ?? (await startTracing({ log: opts.log }));
    return new Monitoring(opts, tracing);
  }

  /** True for the sampled fraction of requests whose full tensors go into the record. */
  samplePayload(): boolean {
    return this.payloadSampleRate > 0 && Math.random() < this.payloadSampleRate;
  }

  /**
   * Records one finished request (or shadow call): its request log record, the drift
   * windows of the version that served it and, for a primary request, its prediction for
   * the label join. Synchronous; reads the tensors now and keeps no reference to their
   * data. `served` is the version that ran it (null when none was resolved); `response`
   * null and `error` set for a failed or rejected request.
   */
  requestDone(
    request: InferRequest,
    served: ObservedModel | null,
    response: InferResponse | null,
    error: GatewayError | null,
    context: RequestContext = NO_CONTEXT,
  ): void {
    const logging = this.requestLog.enabled;
    const shadow = context.shadow === true;
    const remembering = this.evaluator.enabled && !shadow && error === null;
    let summaries: OutputSummary[] | null = null;
    if (response !== null && served !== null) {
      if (logging || remembering) summaries = summariseOutputs(response.outputs);
      this.drift.observe(served, request.inputs, response.outputs);
      if (remembering && summaries !== null) this.evaluator.remember(request.id, served.name, served.version, summaries);
    }
    if (!logging) return;
    const now = performance.now();
    const record = new RequestRecord(request.id, served?.name ?? request.modelName, request.protocol);
    record.time = Date.now() - (now - request.receivedAt);
    record.traceId = this.tracing.traceId(context.span ?? null);
    record.route = context.route ?? null;
    record.policy = context.policy ?? null;
    record.target = context.target ?? null;
    record.canaryStep = context.canaryStep ?? null;
    record.banditArm = context.banditArm ?? null;
    record.shadow = shadow;
    record.version = served?.version ?? request.modelVersion;
    record.status = error === null ? 'success' : error.code;
    record.error = error === null ? null : error.message;
    record.featuresUs = context.featuresUs ?? 0;
    record.totalUs = (now - request.receivedAt) * 1000;
    record.inputs = describeTensors(request.inputs);
    record.outputs = summaries;
    record.featuresDefaulted = context.featuresDefaulted ?? null;
    if (response !== null) {
      record.queueUs = response.queueUs;
      record.computeUs = response.computeUs;
      record.batchSize = response.batchSize;
    }
    if (this.samplePayload()) record.payload = new RecordPayload(capturePayload(request.inputs), response === null ? null : capturePayload(response.outputs));
    this.requestLog.write(record);
  }

  /** Writes a record built by the caller (synchronous, never throws). */
  log(record: RequestRecord): void {
    this.requestLog.write(record);
  }

  /** Joins a ground-truth label to the prediction of request `id` (see Evaluator.label). */
  label(id: unknown, value: unknown): Promise<LabelOutcome> {
    return this.evaluator.label(id, value);
  }

  /** Flushes the request log (bounded by close_timeout_s), stops the drift timer, closes stores and tracing. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      unsubscribe(BATCH_COMPLETE_CHANNEL, this.onBatch);
      unsubscribe(MODEL_LOAD_CHANNEL, this.onModelState);
      this.drift.close();
      await Promise.allSettled([this.requestLog.close(), this.evaluator.close()]);
      await this.tracing.shutdown();
    })();
    return this.closing;
  }
}
