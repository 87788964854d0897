import { DynamicBatcher } from './dynamic-batcher.js';
import { PassThroughScheduler } from './pass-through.js';
import type { BatcherOptions, Scheduler } from './scheduler.js';

/** The scheduler for a model version: the dynamic batcher when max_batch_size > 0, else pass-through. */
export function createScheduler(opts: BatcherOptions): Scheduler {
  return opts.maxBatchSize > 0 ? new DynamicBatcher(opts) : new PassThroughScheduler(opts);
}
