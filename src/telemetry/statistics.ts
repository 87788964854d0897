import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { BATCH_COMPLETE_CHANNEL, type BatchCompleteEvent } from '../batching/index.js';
import { REQUEST_END_CHANNEL, type RequestEnd } from '../core/index.js';

/**
 * Per model version inference statistics in the shape of Triton's `ModelStatistics`
 * (grpc_service.proto; the same JSON over REST `GET /v2/models/{m}/stats`): counts and
 * cumulative nanoseconds, kept from the diagnostics channels the gateway and the batchers
 * publish on, so nothing on the request path knows about them.
 *
 * Triton's meaning is kept: `success`/`fail` are whole requests (receive → response ready),
 * `queue` the time successful requests waited, and `compute_*` the phases of the batch each
 * successful request ran in (every request of a batch is charged the batch's durations);
 * `batch_stats` counts executions per batch size (in items), `inference_count` items and
 * `execution_count` batches. Nanosecond sums are JS numbers: exact up to 2^53 ns (104 days of
 * cumulative time), then they lose precision gradually rather than wrapping. A version's
 * statistics are kept across reloads of that version, for the life of the process.
 */

export interface StatisticDuration {
  count: number;
  ns: number;
}

export interface InferStatistics {
  success: StatisticDuration;
  fail: StatisticDuration;
  queue: StatisticDuration;
  compute_input: StatisticDuration;
  compute_infer: StatisticDuration;
  compute_output: StatisticDuration;
  cache_hit: StatisticDuration;
  cache_miss: StatisticDuration;
}

export interface InferBatchStatistics {
  batch_size: number;
  compute_input: StatisticDuration;
  compute_infer: StatisticDuration;
  compute_output: StatisticDuration;
}

/** Triton's ModelStatistics message, JSON with the proto's field names. */
export interface ModelStatisticsJson {
  name: string;
  version: string;
  /** ms since the epoch of the last successful inference; 0 = none yet */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: InferStatistics;
  batch_stats: InferBatchStatistics[];
}

const duration = (): StatisticDuration => ({ count: 0, ns: 0 });

function add(d: StatisticDuration, count: number, us: number): void {
  d.count += count;
  d.ns += Math.round(us * 1000 * count);
}

class BatchSizeStats {
  readonly batchSize: number;
  readonly input = duration();
  readonly infer = duration();
  readonly output = duration();

  constructor(batchSize: number) {
    this.batchSize = batchSize;
  }
}

class VersionStats {
  lastInference = 0;
  inferenceCount = 0;
  executionCount = 0;
  readonly success = duration();
  readonly fail = duration();
  readonly queue = duration();
  readonly computeInput = duration();
  readonly computeInfer = duration();
  readonly computeOutput = duration();
  /** indexed by batch size (items); sparse */
  readonly batches = new Map<number, BatchSizeStats>();

  toJson(name: string, version: string): ModelStatisticsJson {
    const copy = (d: StatisticDuration): StatisticDuration => ({ count: d.count, ns: d.ns });
    return {
      name,
      version,
      last_inference: this.lastInference,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: copy(this.success),
        fail: copy(this.fail),
        queue: copy(this.queue),
        compute_input: copy(this.computeInput),
        compute_infer: copy(this.computeInfer),
        compute_output: copy(this.computeOutput),
        // switchyard has no response cache: Triton reports zeros when the cache is off
        cache_hit: duration(),
        cache_miss: duration(),
      },
      batch_stats: [...this.batches.values()]
        .sort((a, b) => a.batchSize - b.batchSize)
        .map((b) => ({ batch_size: b.batchSize, compute_input: copy(b.input), compute_infer: copy(b.infer), compute_output: copy(b.output) })),
    };
  }
}

/** Collects statistics while subscribed; `close()` unsubscribes. */
export class InferenceStatistics {
  private readonly versions = new Map<string, VersionStats>();
  private readonly onRequest = (msg: unknown): void => this.request(msg as RequestEnd);
  private readonly onBatch = (msg: unknown): void => this.batch(msg as BatchCompleteEvent);

  constructor() {
    subscribe(REQUEST_END_CHANNEL, this.onRequest);
    subscribe(BATCH_COMPLETE_CHANNEL, this.onBatch);
  }

  /** The statistics of model `name` version `version` (zeros when it has served nothing). */
  snapshot(name: string, version: string): ModelStatisticsJson {
    const s = this.versions.get(key(name, version));
    return (s ?? new VersionStats()).toJson(name, version);
  }

  close(): void {
    unsubscribe(REQUEST_END_CHANNEL, this.onRequest);
    unsubscribe(BATCH_COMPLETE_CHANNEL, this.onBatch);
  }

  private of(name: string, version: string): VersionStats {
    const k = key(name, version);
    let s = this.versions.get(k);
    if (s === undefined) {
      s = new VersionStats();
      this.versions.set(k, s);
    }
    return s;
  }

  private request(m: RequestEnd): void {
    // a request for an unknown model has no version to charge
    if (m.model === '') return;
    const s = this.of(m.model, m.version);
    if (m.status === 'success') {
      add(s.success, 1, m.totalUs);
      add(s.queue, 1, m.queueUs);
      s.lastInference = Date.now();
    } else {
      add(s.fail, 1, m.totalUs);
    }
  }

  private batch(m: BatchCompleteEvent): void {
    if (m.error) return;
    const s = this.of(m.model, m.version);
    s.executionCount++;
    s.inferenceCount += m.items;
    add(s.computeInput, m.requests, m.inputUs);
    add(s.computeInfer, m.requests, m.inferUs);
    add(s.computeOutput, m.requests, m.outputUs);
    let b = s.batches.get(m.items);
    if (b === undefined) {
      b = new BatchSizeStats(m.items);
      s.batches.set(m.items, b);
    }
    add(b.input, 1, m.inputUs);
    add(b.infer, 1, m.inferUs);
    add(b.output, 1, m.outputUs);
  }
}

function key(name: string, version: string): string {
  return `${name}\u0000${version}`;
}
