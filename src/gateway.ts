import { channel } from 'node:diagnostics_channel';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ServerConfig } from './config/index.js';
import { GatewayError, InferRequest, cancelled, deadlineExceeded, newRequestId, toGatewayError, validateRequest, silentLogger, REQUEST_END_CHANNEL, type InferResponse, type Protocol, type Logger, type RequestEnd } from './core/index.js';
import { ModelRepository, parseConfigOverride, versionFolder, type IndexEntry, type LoadedVersion } from './repository/index.js';
import { FeatureService } from './features/index.js';
import { PipelineContext } from './gateway/pipeline-context.js';
import { createRouteStore, feedbackUnknown, Router, type Decision, type RouteAdmin, type RouteRequest } from './routing/index.js';
import { ShadowMirror } from './gateway/shadow-mirror.js';
import { SERVER_VERSION, applyClassification, parseFeedbackItem, planClassification, SharedMemoryRegistry, readSharedMemoryInputs, usesSharedMemory, writeSharedMemoryOutputs, type ModelConfigJson } from './protocol/index.js';
import { ModelCatalog } from './gateway/model-catalog.js';
import type { ModelSignature } from './core/tensor.js';
import { InferenceStatistics, LogSettings, Metrics, TraceSettings, Monitoring, type LabelOutcome, type MonitoringOptions, type ModelStatisticsJson, type ServedModelView } from './telemetry/index.js';
import { Webhooks } from './webhooks/index.js';

const requestEnd = channel(REQUEST_END_CHANNEL);


/** What feedback did: per kind, its outcome (null when that kind was not sent). */
export interface FeedbackResult {
  id: string;
  label: LabelOutcome | null;
  reward: 'credited' | 'duplicate' | 'unknown' | null;
}

/** What the gateway is composed of (built by Gateway.create). */
interface GatewayParts {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly repository: ModelRepository;
  readonly metrics: Metrics;
  readonly stats: InferenceStatistics;
  readonly monitoring: Monitoring;
  readonly features: FeatureService;
  readonly router: Router;
  readonly webhooks: Webhooks;
}

export interface GatewayOptions {
  config: ServerConfig;
  log?: Logger;
  /** replaces parts of the monitoring the config describes (tests: sinks, an in-memory tracer) */
  monitoring?: Pick<MonitoringOptions, 'sinks' | 'tracing' | 'driftTimer'>;
}

/**
 * The composition root: builds the repository, metrics, monitoring, routing and features
 * from the config, and owns the one inference pipeline every transport calls.
 */
export class Gateway {
  readonly config: ServerConfig;
  readonly repository: ModelRepository;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** request log, label join, drift, tracing */
  private readonly monitoring: Monitoring;
  /** online features: fills bound model inputs from entity ids */
  private readonly features: FeatureService;
  /** routes (virtual models) and their policies */
  private readonly router: Router;
  /** what the admin API may do to routes (the router's admin operations) */
  readonly routes: RouteAdmin;
  /** sends canary, drift, accuracy and shadow events to the configured URLs */
  private readonly webhooks: Webhooks;
  /** runs the shadow copies of routed requests */
  private readonly shadows: ShadowMirror;
  /** metadata, readiness, config, statistics and index of models and routes alike */
  private readonly catalog: ModelCatalog;
  private readonly stats: InferenceStatistics;
  /** system shared memory regions the clients registered (Triton's shared memory extension) */
  readonly sharedMemory = new SharedMemoryRegistry();
  /** Triton's trace settings: which requests get spans */
  readonly traceSettings: TraceSettings;
  /** Triton's log settings: the log level at run time */
  readonly logSettings: LogSettings;
  /** set once stop() begins: new requests are refused with 503 */
  draining = false;
  private drained: Promise<void> | null = null;
  private stopped: Promise<void> | null = null;
  private constructor(parts: GatewayParts) {
    this.config = parts.config;
    this.log = parts.log;
    this.logSettings = new LogSettings(parts.log);
    this.repository = parts.repository;
    this.metrics = parts.metrics;
    this.stats = parts.stats;
    this.monitoring = parts.monitoring;
    this.features = parts.features;
    this.router = parts.router;
    this.webhooks = parts.webhooks;
    this.routes = parts.router;
    this.catalog = new ModelCatalog(parts.repository, parts.router, parts.stats);
    this.traceSettings = new TraceSettings(parts.monitoring.tracing.enabled);
    this.shadows = new ShadowMirror({
      resolve: (t) => parts.repository.resolve(t.model, t.version),
      execute,
      record: (req, target, resp, err, ctx) => parts.monitoring.requestDone(req, target, resp, err, ctx),
      tracing: parts.monitoring.tracing,
      router: parts.router,
      maxInflight: parts.config.shadow.max_inflight,
      draining: () => this.draining,
    });
  }

  /** Builds the gateway and loads every model in the repository (failures leave a model UNAVAILABLE). */
  static async create(opts: GatewayOptions): Promise<Gateway> {
    const c = opts.config;
    const log = opts.log ?? silentLogger;
    const repository = new ModelRepository({
      root: c.model_repository,
      modelDefaults: c.model_defaults,
      cores: c.threads > 0 ? c.threads : availableParallelism(),
      drainTimeoutMs: c.drain_timeout_s * 1000,
      log,
      startupModels: c.model_control_mode === 'none' || c.startup_models.includes('*') ? '*' : c.startup_models,
      singleModel: c.model_name,
    });
    const metrics = new Metrics(() => servedViews(repository));
    const stats = new InferenceStatistics();
    // first: a webhook config error (an unset secret_env) stops the start before anything is loaded,
    // and the subscriptions exist before the first canary, drift or label event
    const webhooks = Webhooks.create({ config: c, registry: metrics.registry, log });
    const monitoring = await Monitoring.create({
      config: c,
      registry: metrics.registry,
      log,
      versionFolder: (model, version) => versionFolder(c.model_repository, c.model_name, model, version),
      ...opts.monitoring,
    });
    const bindings = Object.fromEntries(Object.entries(c.models).flatMap(([m, s]) => (s.features === undefined ? [] : [[m, s.features]])));
    const features = await FeatureService.create({ views: c.features.views, bindings, redisUrl: c.redis.url, log, lookupTimeoutMs: c.features.lookup_timeout_ms });
    features.watchModels((m, v) => (repository.has(m, v) ? repository.resolve(m, v).signature : null));
    await repository.loadAll();
    // routes are checked against the served models, so they come after the models load
    // without Redis, routes changed at run time persist in state_dir (null: in memory only)
    const store = await createRouteStore({ redisUrl: c.redis.url, stateDir: c.state_dir, log }).catch(async (e: unknown) => {
      await Promise.allSettled([repository.close(), features.close(), monitoring.close()]);
      throw e;
    });
    const router = await Router.create({
      routes: c.routes,
      store,
      log,
      catalog: {
        has: (m, v) => repository.isReady(m, v),
        versions: (m) => repository.index(true).filter((e) => e.name === m).map((e) => e.version),
      },
    });
    return new Gateway({ config: c, log, repository, metrics, stats, monitoring, features, router, webhooks });
  }

  /** Ready = not draining and at least one model version ready (KServe's server readiness). */
  get ready(): boolean {
    return !this.draining && this.repository.served().length > 0;
  }

  /**
   * Runs one inference request through the pipeline: resolve the model version, validate
   * against its signature, queue it in that version's scheduler. Rejects with a GatewayError.
   */
  async infer(req: InferRequest): Promise<InferResponse> {
    if (req.id === '') req.id = newRequestId();
    const tracing = this.monitoring.tracing;
    const span = tracing.enabled && this.traceSettings.sample(req.modelName, req.traceparent !== null) ? tracing.startRequestSpan(req.traceparent, { requestId: req.id, model: req.modelName, protocol: req.protocol }, null, req.receivedAt) : null;
    req.trace = span;
    const ctx = new PipelineContext(span);
    let target: LoadedVersion | null = null;
    let decision: Decision | null = null;
    try {
      if (this.draining) throw new GatewayError('SY_ERR_DRAINING', 'server is shutting down; send the request to another replica', { retryAfterS: 1 });
      const shm = usesSharedMemory(req);
      if (shm) readSharedMemoryInputs(req, this.sharedMemory);
      if (this.router.has(req.modelName)) {
        decision = this.route(req, ctx);
        target = this.repository.resolve(decision.target.model, decision.target.version);
      } else {
        target = this.repository.resolve(req.modelName, req.modelVersion);
      }
      const binding = this.features.binding(target.name);
      if (binding !== null) {
        const started = performance.now();
        const lookup = tracing.startSpan(span, 'feature_lookup');
        // a request that sends the input itself gets no lookup (assemble only drops entity ids)
        const provided = hasInput(req, binding.input);
        try {
          const defaulted = await this.features.assemble(req, binding, target.signature, target.maxBatchSize);
          if (!provided) ctx.featuresDefaulted = defaulted;
        } finally {
          tracing.endSpan(lookup);
        }
        ctx.featuresUs = (performance.now() - started) * 1000;
      }
      // Triton's classification extension: checked before the run, applied to the answer only
      const classes = req.outputs === null ? null : planClassification(req, target);
      const resp = await execute(req, target, `model "${target.name}" version "${target.version}"`);
      // the client went away while its request ran (a closed connection, a cancelled call): the
      // answer reaches nobody, so it is counted and logged as cancelled, not as a success
      if (req.cancelled) throw cancelled();
      if (shm) writeSharedMemoryOutputs(req, resp, this.sharedMemory);
      if (ctx.featuresDefaulted !== null) (resp.parameters ??= {}).features_defaulted = ctx.featuresDefaulted;
      if (decision !== null) {
        (resp.parameters ??= {}).route = decision.route;
        this.router.record(decision, { ok: true, latencyUs: (performance.now() - req.receivedAt) * 1000 });
        if (decision.shadows.length > 0) this.shadows.mirror(req, resp, decision, ctx);
      }
      this.finish(req, target, resp, null, ctx);
      return classes === null ? resp : applyClassification(classes, resp);
    } catch (e) {
      const err = toGatewayError(e);
      if (err.code === 'SY_ERR_INTERNAL') this.log.error('internal error', { requestId: req.id, model: req.modelName, err: e });
      if (decision !== null && againstTarget(err)) this.router.record(decision, { ok: false, latencyUs: (performance.now() - req.receivedAt) * 1000 });
      this.finish(req, target, null, err, ctx);
      throw err;
    }
  }

  /**
   * Counts and logs a request the transport refused before it could become an InferRequest
   * (malformed JSON, a body over the limit, an undecodable gRPC message): it appears in
   * requests_total with its error code and in the request log, as every answered request
   * does. Returns the error as the client will see it.
   */
  rejected(r: { protocol: Protocol; model: string; version: string | null; id: string; receivedAt: number }, e: unknown): GatewayError {
    const err = toGatewayError(e);
    if (err.code === 'SY_ERR_INTERNAL') this.log.error('internal error', { requestId: r.id, model: r.model, err: e });
    const req = new InferRequest(r.model.slice(0, 256), r.version, [], r.protocol, r.receivedAt);
    req.id = r.id === '' ? newRequestId() : r.id.slice(0, 256);
    this.finish(req, null, null, err, new PipelineContext(null));
    return err;
  }

  /** Whether `name` is a route (transports copy the routing headers only for routes). */
  isRoute(name: string): boolean {
    return this.router.has(name);
  }

  /** The request headers routes read (lower case): copy these into InferRequest.headers. */
  routingHeaders(): readonly string[] {
    return this.router.headerNames();
  }

  /** Lets the route's policy pick the target; the request then names the target. */
  private route(req: InferRequest, ctx: PipelineContext): Decision {
    const name = req.modelName;
    if (req.modelVersion !== null) {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `"${name}" is a route: its policy picks the version; call /v2/models/${name}/infer without a version, or pin one with the x-switchyard-target header`);
    }
    const headers = req.headers;
    const params = req.parameters;
    const routeReq: RouteRequest = {
      requestId: req.id,
      // a header, else a string request parameter of the same name (WebSocket messages carry no headers)
      header: (h) => headers?.[h] ?? (params !== null && typeof params[h] === 'string' ? (params[h] as string) : null),
    };
    const d = this.router.pick(name, routeReq);
    req.modelName = d.target.model;
    req.modelVersion = d.target.version;
    ctx.route = d.route;
    ctx.policy = d.policy;
    ctx.target = d.target.key;
    ctx.canaryStep = d.canaryStep;
    ctx.banditArm = d.arm === null ? null : String(d.arm);
    return d;
  }



  /**
   * Feedback on one earlier request (POST /v2/feedback): `{"id", "label"}` joins a ground
   * truth label to its logged prediction (online evaluation), `{"id", "reward"}` credits the
   * bandit arm that served it; both may come together. Resolves with what happened to each;
   * rejects with 400 for a malformed item and 404 when nothing is known of the id.
   */
  async feedback(item: unknown): Promise<FeedbackResult> {
    const f = parseFeedbackItem(item);
    const id = f.id;
    const result: FeedbackResult = { id, label: null, reward: null };
    if (f.label !== undefined) result.label = await this.monitoring.label(id, f.label);
    if (f.reward !== undefined) result.reward = await this.router.feedback(id, f.reward);
    if ((result.label === null || result.label === 'unmatched') && (result.reward === null || result.reward === 'unknown')) {
      if (f.label === undefined) throw feedbackUnknown(id);
      throw new GatewayError(
        'SY_ERR_NOT_FOUND',
        `no prediction is known for request id "${id.slice(0, 128)}" (unknown, or older than the evaluation window${f.reward === undefined ? '' : ', or not served by a bandit or canary route'}); send feedback for ids of recent responses`,
      );
    }
    return result;
  }

  // The door every transport uses for everything but inference: a route answers each call as
  // a model does (see ModelCatalog), so no kind of model can be visible to one call only.

  /** What GET /v2 and ServerMetadata answer. */
  serverMetadata(extensions: readonly string[]): { name: string; version: string; extensions: string[] } {
    return { name: this.config.server_name, version: SERVER_VERSION, extensions: [...extensions] };
  }

  /** KServe v2 model metadata of a model (version) or route; 404 when unknown. */
  modelMetadata(model: string, version: string | null): Record<string, unknown> {
    return this.catalog.metadata(model, version);
  }

  /** Whether a model (version) or route can serve now; throws 404 when the name is unknown. */
  modelReady(model: string, version: string | null): boolean {
    return this.catalog.ready(model, version) && !this.draining;
  }

  /** Triton-style model configuration of a served version (newest READY when version is null) or route. */
  modelConfig(model: string, version: string | null): ModelConfigJson {
    return this.catalog.config(model, version);
  }

  /**
   * Triton-style inference statistics of every served version (model null), of every served
   * version of `model` (version null), of one version, or of a route. Unknown → 404.
   */
  statistics(model: string | null, version: string | null): ModelStatisticsJson[] {
    return this.catalog.statistics(model, version);
  }

  /** The repository index (every model and version with its state), routes included. */
  index(readyOnly: boolean): IndexEntry[] {
    return this.catalog.index(readyOnly);
  }

  /** The signature of a model or route (the v1 `:predict` shim decodes against it). */
  signature(model: string): ModelSignature {
    return this.catalog.signature(model);
  }

  /**
   * Loads (or reloads) a model from the repository; `configOverride` is Triton's `config`
   * load parameter (JSON text), which stands in for the model's config.yaml for this load.
   */
  async load(model: string, configOverride: string | null): Promise<void> {
    this.catalog.checkNotRoute(model, 'loaded');
    const override = configOverride === null ? null : parseConfigOverride(configOverride, model);
    await this.repository.load(model, override);
  }

  async unload(model: string): Promise<void> {
    this.catalog.checkNotRoute(model, 'unloaded');
    await this.repository.unload(model);
  }

  /** Everything that happens once per finished request: metrics, statistics, request log, drift, spans. */
  private finish(req: InferRequest, target: LoadedVersion | null, resp: InferResponse | null, err: GatewayError | null, ctx: PipelineContext): void {
    const span = ctx.span;
    const status = err === null ? 'success' : err.code;
    if (requestEnd.hasSubscribers) {
      const msg: RequestEnd = {
        // unknown model names are client input: never a label value
        model: target === null ? '' : target.name,
        version: target === null ? '' : target.version,
        protocol: req.protocol,
        status,
        totalUs: (performance.now() - req.receivedAt) * 1000,
        queueUs: resp === null ? 0 : resp.queueUs,
      };
      requestEnd.publish(msg);
    }
    this.monitoring.requestDone(req, target, resp, err, ctx);
    if (span !== null) {
      const tracing = this.monitoring.tracing;
      if (resp !== null) {
        const enqueued = performance.now() - (resp.queueUs + resp.computeUs) / 1000;
        tracing.recordSpan(span, 'queue_wait', enqueued, enqueued + resp.queueUs / 1000);
      }
      tracing.endRequestSpan(span, { version: target === null ? null : target.version, status, error: err === null ? null : err.message });
    }
  }

  /**
   * Stops accepting (new requests are answered 503), lets queued requests finish (bounded by
   * drain_timeout_s) and stops the workers. Monitoring keeps running: the 503s answered
   * until the doors close are counted and logged as every answered request is. close() ends it.
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.drained ??= this.repository.close();
    await this.drained;
  }

  /** drain(), then flushes every buffered request log record, stops monitoring, features and routes, and delivers the queued webhook events (bounded). */
  async stop(): Promise<void> {
    await this.drain();
    this.stopped ??= this.closeAll();
    await this.stopped;
  }

  private async closeAll(): Promise<void> {
    await Promise.all([this.monitoring.close(), this.features.close(), this.router.close()]);
    // after the parts that publish events: what they announced while closing is still sent
    await this.webhooks.close();
    this.metrics.close();
    this.stats.close();
    this.sharedMemory.close();
  }
}

/**
 * The pipeline's last steps, for a request already resolved to `target` (a primary or a
 * shadow copy): validate against the signature (`label` names the target in errors), refuse
 * a request whose deadline passed, queue it in the version's scheduler.
 */
function execute(req: InferRequest, target: LoadedVersion, label: string): Promise<InferResponse> {
  const items = validateRequest(req, target.signature, target.maxBatchSize, label);
  if (req.deadline <= performance.now()) throw deadlineExceeded(target.name, target.version);
  return target.scheduler.enqueue(req, items);
}

/** What the metrics read on each scrape from the models being served. */
function servedViews(repository: ModelRepository): ServedModelView[] {
  return repository.served().map((v) => ({
    name: v.name,
    version: v.version,
    provider: v.provider,
    instances: v.pool.instances,
    queued: v.scheduler.queued,
    inflight: v.scheduler.inflight,
  }));
}

function hasInput(req: InferRequest, name: string): boolean {
  const inputs = req.inputs;
  for (let i = 0; i < inputs.length; i++) if (inputs[i].name === name) return true;
  return false;
}

/**
 * Whether a failed routed request counts against the target's health (canary error rate,
 * per-target errors): server-side failures, overload, and inputs the target's signature
 * refused do; a client that went away or sent a malformed request says nothing about it.
 */
function againstTarget(err: GatewayError): boolean {
  return err.httpStatus >= 500 || err.code === 'SY_ERR_QUEUE_FULL' || err.code === 'SY_ERR_INVALID_INPUT' || err.code === 'SY_ERR_BATCH_TOO_LARGE';
}
