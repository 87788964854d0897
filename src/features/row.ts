import type { FeatureDtype } from '../config/index.js';
import { parseFeature, type FeatureScalar } from './parse.js';
import { REASON, type ReasonCode } from './reasons.js';

/** One value per field of a view, in the view's datatype (bigints for INT64/UINT64). */
export type RowValues = Float64Array | BigInt64Array | BigUint64Array;

/**
 * The features of one entity in one view, defaults already in place of what was missing.
 * Immutable once built: rows are shared by the cache and by concurrent requests.
 */
export class FeatureRow {
  readonly values: RowValues;
  /** per field, the REASON code it was defaulted for (0 = a real value); null when none was */
  readonly reasons: Uint8Array | null;
  /** how many fields hold their default */
  readonly defaulted: number;
  /** false for rows standing in for a failed or timed-out read: those are never cached */
  readonly cacheable: boolean;
  /** the longest the row may stay cached (ms; a Feast value turning stale), or Infinity */
  readonly maxTtlMs: number;

  constructor(values: RowValues, reasons: Uint8Array | null, defaulted: number, cacheable: boolean, maxTtlMs: number) {
    this.values = values;
    this.reasons = reasons;
    this.defaulted = defaulted;
    this.cacheable = cacheable;
    this.maxTtlMs = maxTtlMs;
  }
}

export function allocateRow(dtype: FeatureDtype, fields: number): RowValues {
  if (dtype === 'INT64') return new BigInt64Array(fields);
  if (dtype === 'UINT64') return new BigUint64Array(fields);
  return new Float64Array(fields);
}

/** Writes a parsed value (a bigint exactly when the row holds bigints). */
export function setRowValue(values: RowValues, i: number, v: FeatureScalar): void {
  if (values instanceof Float64Array) values[i] = v as number;
  else values[i] = v as bigint;
}

/** A row whose every field is defaulted for `reason`. */
export function defaultRow(defaults: RowValues, reason: ReasonCode, cacheable: boolean): FeatureRow {
  return new FeatureRow(defaults, new Uint8Array(defaults.length).fill(reason), defaults.length, cacheable, Infinity);
}

/**
 * Builds a row field by field: starts from the defaults, then each field is either given a
 * parsed value or marked defaulted with a reason. Used by the store codecs.
 */
export class RowDraft {
  private values: RowValues;
  private reasons: Uint8Array | null = null;
  private defaulted = 0;
  private readonly dtype: FeatureDtype;

  constructor(dtype: FeatureDtype, defaults: RowValues) {
    this.dtype = dtype;
    this.values = defaults.slice();
  }

  /**
   * Parses `raw` for field i: null/undefined (or an empty CSV cell) → missing_field; not a
   * scalar, or not parsable to the dtype → unparsable.
   */
  put(i: number, raw: unknown): void {
    if (raw === null || raw === undefined || raw === '') {
      this.miss(i, REASON.missing_field);
      return;
    }
    const t = typeof raw;
    if (t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') {
      this.miss(i, REASON.unparsable);
      return;
    }
    const v = parseFeature(this.dtype, raw as string | number | bigint | boolean);
    if (v === null) this.miss(i, REASON.unparsable);
    else setRowValue(this.values, i, v);
  }

  miss(i: number, reason: ReasonCode): void {
    this.reasons ??= new Uint8Array(this.values.length);
    if (this.reasons[i] === REASON.ok) this.defaulted++;
    this.reasons[i] = reason;
  }

  /** Marks every field that holds a real value as defaulted for `reason` (e.g. stale). */
  missAll(reason: ReasonCode, defaults: RowValues): void {
    for (let i = 0; i < this.values.length; i++) {
      if (this.reasons === null || this.reasons[i] === REASON.ok) this.miss(i, reason);
    }
    this.values = defaults.slice();
  }

  finish(maxTtlMs = Infinity): FeatureRow {
    return new FeatureRow(this.values, this.reasons, this.defaulted, true, maxTtlMs);
  }
}

