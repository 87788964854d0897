import type { Datatype, NumericArray } from '../core/datatypes.js';

/**
 * How tensors cross the thread boundary between the main thread and a model worker.
 * Numeric data travels as typed arrays whose buffers are moved (transfer list), BYTES as
 * arrays of JS strings (what ONNX Runtime's string tensors take).
 */
export interface WireTensor {
  name: string;
  datatype: Datatype;
  dims: number[];
  data: NumericArray | string[];
}

export interface WorkerOptions {
  modelName: string;
  modelVersion: string;
  modelPath: string;
  /** ordered; the first that creates a session is used */
  executionProviders: readonly string[];
  intraOpThreads: number;
}

export interface TensorMeta {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface DescribeResult {
  inputs: TensorMeta[];
  outputs: TensorMeta[];
  provider: string;
  /** execution providers tried before the one that loaded, and why each failed */
  fallbacks: string[];
  loadMs: number;
}

export type WorkerTask =
  | { kind: 'describe' }
  | { kind: 'run'; inputs: WireTensor[]; outputs: readonly string[] }
  | { kind: 'release' };

/** Errors thrown by ORT inside a worker carry this prefix, to tell them from a worker that died. */
export const INFERENCE_ERROR_PREFIX = 'SY_INFERENCE_FAILED: ';
