import { createScheduler, type Scheduler } from '../batching/index.js';
import type { ModelConfig } from '../config/index.js';
import type { ModelSignature } from '../core/tensor.js';
import { ModelPool } from '../runtime/index.js';

/** A model config after the repository decided what `auto` means for this model. */
export type ResolvedModelConfig = Omit<ModelConfig, 'max_batch_size'> & { readonly max_batch_size: number };

export interface LoadVersionOptions {
  name: string;
  version: string;
  modelPath: string;
  config: ModelConfig;
  /** output name → class labels (the config's `outputs.<name>.label_filename`, read by the repository) */
  labels?: ReadonlyMap<string, readonly string[]>;
  /** cores the model's instances may use in all (intra-op threads = this / instance_count) */
  cores: number;
}

/**
 * One model version being served: its instances (worker pool), its scheduler (batcher) and
 * what it looks like from outside (signature, resolved config, execution provider).
 * Requests routed here finish here, even when a reload has swapped in a newer instance.
 */
export class LoadedVersion {
  readonly name: string;
  readonly version: string;
  readonly signature: ModelSignature;
  readonly config: ResolvedModelConfig;
  readonly provider: string;
  readonly scheduler: Scheduler;
  readonly pool: ModelPool;
  readonly loadedAt: number;
  /** output name → class labels, for the classification extension */
  readonly labels: ReadonlyMap<string, readonly string[]>;

  private constructor(name: string, version: string, pool: ModelPool, config: ResolvedModelConfig, scheduler: Scheduler, labels: ReadonlyMap<string, readonly string[]>) {
    this.name = name;
    this.version = version;
    this.pool = pool;
    this.signature = { inputs: pool.description.inputs, outputs: pool.description.outputs };
    this.config = config;
    this.provider = pool.description.provider;
    this.scheduler = scheduler;
    this.loadedAt = Date.now();
    this.labels = labels;
  }

  get maxBatchSize(): number {
    return this.config.max_batch_size;
  }

  static async load(opts: LoadVersionOptions): Promise<LoadedVersion> {
    const c = opts.config;
    const threads = c.intra_op_threads > 0 ? c.intra_op_threads : Math.max(1, Math.floor(opts.cores / c.instance_count));
    const pool = await ModelPool.start({
      modelName: opts.name,
      modelVersion: opts.version,
      modelPath: opts.modelPath,
      executionProviders: c.execution_providers,
      intraOpThreads: threads,
      instances: c.instance_count,
    });
    try {
      const signature: ModelSignature = { inputs: pool.description.inputs, outputs: pool.description.outputs };
      const maxBatchSize = resolveMaxBatchSize(c.max_batch_size, signature);
      for (const output of Object.keys(c.outputs)) {
        if (!signature.outputs.some((o) => o.name === output)) {
          throw new Error(`outputs.${output}: the model has no output "${output}"; its outputs are ${signature.outputs.map((o) => `"${o.name}"`).join(', ')}`);
        }
      }
      const db = c.dynamic_batching;
      for (const p of db.preferred_batch_sizes) {
        if (maxBatchSize > 0 && p > maxBatchSize) {
          throw new Error(`preferred_batch_sizes has ${p}, larger than max_batch_size ${maxBatchSize}`);
        }
      }
      const config: ResolvedModelConfig = Object.freeze({ ...c, max_batch_size: maxBatchSize });
      const scheduler = createScheduler({
        modelName: opts.name,
        modelVersion: opts.version,
        maxBatchSize,
        maxQueueDelayUs: db.max_queue_delay_us,
        preferredBatchSizes: db.preferred_batch_sizes,
        maxQueueSize: db.max_queue_size,
        defaultTimeoutUs: db.default_timeout_us,
        priorityLevels: db.priority_levels,
        defaultPriorityLevel: db.default_priority_level,
        instances: c.instance_count,
        outputNames: signature.outputs.map((o) => o.name),
        runner: pool,
      });
      return new LoadedVersion(opts.name, opts.version, pool, config, scheduler, opts.labels ?? new Map());
    } catch (e) {
      await pool.close();
      throw e;
    }
  }

  /** Lets queued and running requests finish (bounded by timeoutMs), then stops the workers. */
  async retire(timeoutMs: number): Promise<void> {
    await this.scheduler.drain(timeoutMs);
    await this.pool.close();
  }
}

/**
 * `auto` batches when every input and output has a dynamic leading dimension (the batch
 * dimension), with 64 rows at most; an explicit value must fit the model.
 */
export function resolveMaxBatchSize(configured: number | 'auto', signature: ModelSignature): number {
  const batchable = [...signature.inputs, ...signature.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
  if (configured === 'auto') return batchable ? 64 : 0;
  if (configured > 0 && !batchable) {
    const fixed = [...signature.inputs, ...signature.outputs].find((t) => t.shape.length === 0 || t.shape[0] !== -1);
    throw new Error(
      `max_batch_size is ${configured} but ${fixed === undefined ? 'a tensor' : `"${fixed.name}"`} has no dynamic leading (batch) dimension; set max_batch_size: 0`,
    );
  }
  return configured;
}
