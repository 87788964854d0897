export type { BatchRunner, BatcherOptions, DispatchReason, Scheduler } from './scheduler.js';
export { BATCH_COMPLETE_CHANNEL, BATCH_DISPATCH_CHANNEL, type BatchCompleteEvent, type BatchDispatchEvent } from './diagnostics.js';
export { DynamicBatcher } from './dynamic-batcher.js';
export { PassThroughScheduler } from './pass-through.js';
export { createScheduler } from './factory.js';
