import type { Datatype, TensorData } from './datatypes.js';

/**
 * A named tensor. `data` holds exactly `elementCount(shape)` elements in row-major order
 * (see datatypes.ts for the storage of each datatype). Whoever builds a Tensor hands its
 * `data` over: later code may transfer the underlying buffer to a worker thread.
 */
export class Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
  /** per-tensor protocol parameters (e.g. binary_data_size), or null */
  parameters: Record<string, unknown> | null;

  constructor(name: string, datatype: Datatype, shape: number[], data: TensorData, parameters: Record<string, unknown> | null = null) {
    this.name = name;
    this.datatype = datatype;
    this.shape = shape;
    this.data = data;
    this.parameters = parameters;
  }
}

/** One input or output of a model's signature; -1 marks a dynamic dimension. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}
