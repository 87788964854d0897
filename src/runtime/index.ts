export { ModelPool, type ModelPoolOptions } from './model-pool.js';
export type { DescribeResult, TensorMeta, WorkerOptions } from './wire.js';
