import { channel } from 'node:diagnostics_channel';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ServerConfig } from './config/index.js';
import { GatewayError, deadlineExceeded, newRequestId, toGatewayError, validateRequest, type InferRequest, type InferResponse } from './core/index.js';
import { ModelRepository, type LoadedVersion } from './repository/index.js';
import { tritonModelConfig, type ModelConfigJson } from './protocol/index.js';
import { InferenceStatistics, Metrics, REQUEST_END_CHANNEL, silentLogger, type Logger, type ModelStatisticsJson, type RequestEnd, type ServedModelView } from './telemetry/index.js';

const requestEnd = channel(REQUEST_END_CHANNEL);

export interface GatewayOptions {
  config: ServerConfig;
  log?: Logger;
}

/**
 * The composition root: builds the repository, metrics and (later) routing, features and
 * logging from the config, and owns the one inference pipeline every transport calls.
 */
export class Gateway {
  readonly config: ServerConfig;
  readonly repository: ModelRepository;
  readonly metrics: Metrics;
  readonly log: Logger;
  private readonly stats = new InferenceStatistics();
  /** set once stop() begins: new requests are refused with 503 */
  draining = false;

  private constructor(config: ServerConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.repository = new ModelRepository({
      root: config.model_repository,
      modelDefaults: config.model_defaults,
      cores: config.threads > 0 ? config.threads : availableParallelism(),
      drainTimeoutMs: config.drain_timeout_s * 1000,
      log,
    });
    this.metrics = new Metrics(() => this.servedViews());
  }

  /** Builds the gateway and loads every model in the repository (failures leave a model UNAVAILABLE). */
  static async create(opts: GatewayOptions): Promise<Gateway> {
    const g = new Gateway(opts.config, opts.log ?? silentLogger);
    await g.repository.loadAll();
    return g;
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
    let target: LoadedVersion | null = null;
    try {
      if (this.draining) throw new GatewayError('SY_ERR_DRAINING', 'server is shutting down; send the request to another replica', { retryAfterS: 1 });
      target = this.repository.resolve(req.modelName, req.modelVersion);
      const items = validateRequest(req, target.signature, target.maxBatchSize, `model "${target.name}" version "${target.version}"`);
      if (req.deadline <= performance.now()) throw deadlineExceeded(target.name, target.version);
      const resp = await target.scheduler.enqueue(req, items);
      this.finish(req, target, 'success', resp.queueUs);
      return resp;
    } catch (e) {
      const err = toGatewayError(e);
      if (err.code === 'SY_ERR_INTERNAL') this.log.error('internal error', { requestId: req.id, model: req.modelName, err: e });
      this.finish(req, target, err.code, 0);
      throw err;
    }
  }

  /** Triton-style model configuration of a served version (newest READY when version is null). */
  modelConfig(model: string, version: string | null): ModelConfigJson {
    return tritonModelConfig(this.repository.resolve(model, version));
  }

  /**
   * Triton-style inference statistics of every served version (model null), of every served
   * version of `model` (version null), or of one version. Unknown model or version → 404.
   */
  statistics(model: string | null, version: string | null): ModelStatisticsJson[] {
    if (model !== null && version !== null) {
      const v = this.repository.resolve(model, version);
      return [this.stats.snapshot(v.name, v.version)];
    }
    if (model !== null) this.repository.resolve(model, null);
    return this.repository
      .served()
      .filter((v) => model === null || v.name === model)
      .sort((a, b) => (a.name === b.name ? Number(a.version) - Number(b.version) : a.name < b.name ? -1 : 1))
      .map((v) => this.stats.snapshot(v.name, v.version));
  }

  private finish(req: InferRequest, target: LoadedVersion | null, status: string, queueUs: number): void {
    if (!requestEnd.hasSubscribers) return;
    const msg: RequestEnd = {
      // unknown model names are client input: never a label value
      model: target === null ? '' : target.name,
      version: target === null ? '' : target.version,
      protocol: req.protocol,
      status,
      totalUs: (performance.now() - req.receivedAt) * 1000,
      queueUs,
    };
    requestEnd.publish(msg);
  }

  private servedViews(): ServedModelView[] {
    return this.repository.served().map((v) => ({
      name: v.name,
      version: v.version,
      provider: v.provider,
      instances: v.pool.instances,
      queued: v.scheduler.queued,
      inflight: v.scheduler.inflight,
    }));
  }

  /** Stops accepting, lets queued requests finish (bounded by drain_timeout_s), stops workers. */
  async stop(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    await this.repository.close();
    this.metrics.close();
    this.stats.close();
  }
}
