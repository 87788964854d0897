/**
 * The label join and online evaluation. The gateway remembers each request's prediction
 * (remember(), on the request path: one store write, no waiting); POST /v2/feedback calls
 * label(), which finds the prediction, scores it once and updates the metrics.
 */
import type { Redis } from 'ioredis';
import { openRedis } from '../../redis/index.js';
import { Registry } from 'prom-client';
import type { EvaluationConfig } from '../../config/index.js';
import { GatewayError, type Logger } from '../../core/index.js';
import type { OutputSummary } from '../request-log/index.js';
import { labelScoredChannel, type LabelScoredEvent } from './diagnostics.js';
import { parseLabel, rowMismatch } from './label.js';
import { MemoryPredictionStore } from './memory-store.js';
import { EvaluationMetrics } from './metrics.js';
import { predictionFromOutputs, type Prediction } from './prediction.js';
import { RedisPredictionStore } from './redis-store.js';
import type { LabelOutcome, PredictionStore } from './store.js';

export interface EvaluatorOptions {
  readonly config: EvaluationConfig;
  readonly log: Logger;
  /** where the evaluation metrics are registered; a private registry when left out */
  readonly registry?: Registry;
  /** the server's shared Redis client, or null */
  readonly redis?: Redis | null;
  /** redis.url: a client is made from it for the Redis store when `redis` is null */
  readonly redisUrl?: string | null;
  /** a store to use instead of the configured one (tests) */
  readonly store?: PredictionStore;
}

export class Evaluator {
  readonly metrics: EvaluationMetrics;
  readonly store: PredictionStore;
  readonly enabled: boolean;
  private readonly log: Logger;
  private lastStoreErrorLog = 0;

  constructor(opts: EvaluatorOptions) {
    this.enabled = opts.config.enabled;
    this.log = opts.log;
    this.metrics = new EvaluationMetrics(opts.registry ?? new Registry());
    this.store = opts.store ?? this.createStore(opts);
  }

  private createStore(opts: EvaluatorOptions): PredictionStore {
    const c = opts.config;
    const redisUrl = opts.redisUrl ?? null;
    const shared = opts.redis ?? null;
    const useRedis = c.store === 'redis' || (c.store === 'auto' && (shared !== null || redisUrl !== null));
    if (!useRedis) return new MemoryPredictionStore(c.max_predictions, c.ttl_s);
    let client = shared;
    if (client === null) {
      if (redisUrl === null) throw new Error('evaluation.store redis needs redis.url');
      client = createClient(redisUrl);
    }
    return new RedisPredictionStore({
      client,
      ownsClient: shared === null,
      keyPrefix: c.key_prefix,
      ttlS: c.ttl_s,
      maxPredictions: c.max_predictions,
      onError: (err) => this.storeFailed(err),
    });
  }

  /**
   * Remembers the prediction `outputs` make for request `id` so that a later label can be
   * joined to it. Outputs that cannot be scored (no class, no per-row value) are skipped.
   * Synchronous; the store write is not awaited.
   */
  remember(id: string, model: string, version: string, outputs: readonly OutputSummary[]): void {
    if (!this.enabled || id === '') return;
    const prediction = predictionFromOutputs(model, version, outputs);
    if (prediction !== null) this.store.remember(id, prediction);
  }

  /**
   * Joins a label to the prediction of request `id`: joined (scored now), unmatched (no
   * prediction remembered: unknown id, expired or evicted) or duplicate (already labelled;
   * ignored). Throws a GatewayError (400) for a malformed label or a row count that does
   * not match the prediction, and SY_ERR_INTERNAL when the store does not answer.
   */
  async label(id: unknown, value: unknown): Promise<LabelOutcome> {
    if (typeof id !== 'string' || id === '') {
      throw new GatewayError('SY_ERR_BAD_REQUEST', `feedback "id" is ${JSON.stringify(id) ?? String(id)}; expected the non-empty request id of the prediction`);
    }
    const labels = parseLabel(id, value);
    this.metrics.received.inc();
    if (!this.enabled) {
      this.metrics.unmatched.inc();
      return 'unmatched';
    }
    let prediction: Prediction | null;
    try {
      prediction = await this.store.get(id);
      if (prediction === null) {
        this.metrics.unmatched.inc();
        return 'unmatched';
      }
      if (labels.length !== prediction.values.length) throw rowMismatch(id, labels.length, prediction.values.length);
      if (!(await this.store.markLabelled(id))) {
        this.metrics.duplicate.inc();
        return 'duplicate';
      }
    } catch (e) {
      if (e instanceof GatewayError) throw e;
      throw new GatewayError('SY_ERR_INTERNAL', 'the prediction store did not answer; send the label again later', { cause: e });
    }
    this.score(prediction, labels);
    return 'joined';
  }

  private score(p: Prediction, labels: readonly number[]): void {
    const rows = labels.length;
    if (p.kind === 'class') {
      let correct = 0;
      for (let i = 0; i < rows; i++) if (labels[i] === p.values[i]) correct++;
      this.metrics.classified(p.model, p.version, rows, correct);
      if (labelScoredChannel.hasSubscribers) publishScored({ model: p.model, version: p.version, task: 'classification', rows, correct, absError: 0, sqError: 0 });
    } else {
      let abs = 0;
      let sq = 0;
      for (let i = 0; i < rows; i++) {
        const e = labels[i] - p.values[i];
        abs += Math.abs(e);
        sq += e * e;
      }
      this.metrics.regressed(p.model, p.version, rows, abs, sq);
      if (labelScoredChannel.hasSubscribers) publishScored({ model: p.model, version: p.version, task: 'regression', rows, correct: 0, absError: abs, sqError: sq });
    }
  }

  private storeFailed(err: unknown): void {
    this.metrics.storeErrors.inc();
    const now = Date.now();
    if (now - this.lastStoreErrorLog < 10_000) return;
    this.lastStoreErrorLog = now;
    this.log.warn('could not remember a prediction for the label join', { err });
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

function publishScored(e: LabelScoredEvent): void {
  labelScoredChannel.publish(e);
}

/** A client of the store's own; errors surface as failed commands (counted, logged). */
function createClient(url: string): Redis {
  return openRedis(url, 'predictions');
}
