import type { Datatype, ModelSignature, TensorSpec } from '../../core/index.js';

const FLOAT_TYPES: ReadonlySet<Datatype> = new Set<Datatype>(['FP16', 'FP32', 'FP64']);

/** A tensor whose columns are watched: inputs of rank 2 with floating-point data; numeric outputs of rank 1 or 2. */
export class WatchedTensor {
  /** the tensor's name */
  readonly name: string;
  readonly side: 'input' | 'output';
  /** values per row in the tensor (its second dimension; 1 for rank 1) */
  readonly width: number;
  /** the first `columns` of each row are watched (<= width, <= max_columns) */
  readonly columns: number;
  /** index of this tensor's first column in the model's column list */
  readonly firstColumn: number;
  /** true for a tensor of rank 1 (one value per row, no column index in its name) */
  readonly rank1: boolean;

  constructor(name: string, side: 'input' | 'output', width: number, columns: number, firstColumn: number, rank1: boolean) {
    this.name = name;
    this.side = side;
    this.width = width;
    this.columns = columns;
    this.firstColumn = firstColumn;
    this.rank1 = rank1;
  }

  /** The name of column i: `x[3]` (rank 2) or `label` (rank 1). */
  columnName(i: number): string {
    return this.rank1 ? this.name : `${this.name}[${i}]`;
  }
}

export interface ColumnLayout {
  readonly tensors: readonly WatchedTensor[];
  /** every watched column's name, in order: the `column` label of the drift gauges */
  readonly names: readonly string[];
}

/**
 * The columns watched for a model signature: each 2-D floating-point input ([rows, k],
 * k fixed) and each numeric output of rank 1 ([rows]) or 2 ([rows, k], k fixed), at most
 * `maxColumns` columns per tensor. Other tensors (images, BYTES, dynamic widths) are not
 * watched.
 */
export function columnLayout(signature: ModelSignature, maxColumns: number): ColumnLayout {
  const tensors: WatchedTensor[] = [];
  const names: string[] = [];
  const add = (spec: TensorSpec, side: 'input' | 'output'): void => {
    const rank1 = spec.shape.length === 1;
    const width = rank1 ? 1 : spec.shape[1];
    const t = new WatchedTensor(spec.name, side, width, Math.min(width, maxColumns), names.length, rank1);
    tensors.push(t);
    for (let i = 0; i < t.columns; i++) names.push(t.columnName(i));
  };
  for (const spec of signature.inputs) {
    if (FLOAT_TYPES.has(spec.datatype) && spec.shape.length === 2 && spec.shape[1] > 0) add(spec, 'input');
  }
  for (const spec of signature.outputs) {
    if (spec.datatype === 'BYTES') continue;
    if (spec.shape.length === 1 || (spec.shape.length === 2 && spec.shape[1] > 0)) add(spec, 'output');
  }
  return { tensors, names };
}
