import type { OutputSummary } from '../request-log/index.js';

/** class: `values` are predicted class indices (accuracy); value: predicted numbers (MAE/RMSE). */
export type PredictionKind = 'class' | 'value';

/** What a label is compared with: one prediction per row of a request. */
export class Prediction {
  readonly model: string;
  readonly version: string;
  readonly kind: PredictionKind;
  readonly values: readonly number[];

  constructor(model: string, version: string, kind: PredictionKind, values: readonly number[]) {
    this.model = model;
    this.version = version;
    this.kind = kind;
    this.values = values;
  }

  toJSON(): Record<string, unknown> {
    return { model: this.model, version: this.version, kind: this.kind, values: this.values };
  }

  /** The prediction from its JSON text, or null when the text is not one (a foreign key). */
  static parse(text: string): Prediction | null {
    try {
      const o = JSON.parse(text) as Record<string, unknown>;
      const values = o.values;
      if (typeof o.model !== 'string' || typeof o.version !== 'string' || (o.kind !== 'class' && o.kind !== 'value')) return null;
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) return null;
      return new Prediction(o.model, o.version, o.kind, values as number[]);
    } catch {
      return null;
    }
  }
}

const INTEGER_TYPES = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'BOOL']);

/** One value per row: shape [rows] or [rows, 1]. */
function perRow(s: OutputSummary): boolean {
  return s.values !== null && (s.shape.length === 1 || (s.shape.length === 2 && s.shape[1] === 1));
}

/**
 * The prediction a request's outputs make, or null when they cannot be scored:
 * - the first classifier-like output (argmax per row) → class;
 * - else the first integer output with one value per row (a label output) → class;
 * - else the first floating-point output with one value per row → value (regression).
 */
export function predictionFromOutputs(model: string, version: string, outputs: readonly OutputSummary[]): Prediction | null {
  for (const s of outputs) if (s.argmax !== null) return new Prediction(model, version, 'class', s.argmax);
  for (const s of outputs) if (perRow(s) && INTEGER_TYPES.has(s.datatype)) return new Prediction(model, version, 'class', s.values as number[]);
  for (const s of outputs) if (perRow(s)) return new Prediction(model, version, 'value', s.values as number[]);
  return null;
}
