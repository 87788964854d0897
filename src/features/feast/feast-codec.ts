import { REASON } from '../reasons.js';
import { RowDraft, type FeatureRow } from '../row.js';
import { ID_SEPARATOR, type ViewCodec, type ViewShape } from '../view.js';
import { FeastKeyLayout, encodeJoinKeyValue, type JoinKey } from './entity-key.js';
import { murmur3x86_32 } from './murmur3.js';
import { UNSUPPORTED, decodeFeastValue, decodeTimestampMs } from './value.js';

/** Feast's hash field of a feature: MurmurHash3 x86 32 (seed 0) of "<feature_view>:<feature>", 4 little-endian bytes. */
export function feastFieldName(featureView: string, feature: string): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(murmur3x86_32(Buffer.from(`${featureView}:${feature}`, 'utf8'), 0));
  return b;
}

/** The hash field holding the event timestamp of a feature view's values. */
export function feastTimestampField(featureView: string): Buffer {
  return Buffer.from(`_ts:${featureView}`, 'utf8');
}

export interface FeastCodecOptions {
  readonly project: string;
  readonly featureView: string;
  readonly joinKeys: readonly JoinKey[];
  /** values older than this count as missing (stale); null = no limit */
  readonly maxAgeMs: number | null;
}

/**
 * Feast views: Feast's Redis online-store layout. Key = entity key (serialization v3) +
 * project; each feature a hash field named by feastFieldName holding a serialized
 * feast.types.Value; `_ts:<feature_view>` a serialized google.protobuf.Timestamp.
 * An id of a view with several join keys is their values joined by ID_SEPARATOR, in the
 * layout's (sorted) key order.
 */
export class FeastCodec implements ViewCodec {
  readonly binary = true;
  readonly hashFields: readonly Buffer[];
  readonly layout: FeastKeyLayout;
  private readonly shape: ViewShape;
  private readonly maxAgeMs: number | null;
  private readonly single: boolean;

  constructor(shape: ViewShape, options: FeastCodecOptions) {
    this.shape = shape;
    this.layout = new FeastKeyLayout(options.joinKeys, options.project);
    this.single = this.layout.keys.length === 1;
    this.maxAgeMs = options.maxAgeMs;
    this.hashFields = [...shape.fields.map((f) => feastFieldName(options.featureView, f)), feastTimestampField(options.featureView)];
  }

  key(id: string): Buffer {
    return this.layout.key(this.single ? [id] : id.split(ID_SEPARATOR))!;
  }

  invalidId(id: string): string | null {
    const parts = this.single ? [id] : id.split(ID_SEPARATOR);
    // a value holding the separator itself would shift the others into the wrong join keys
    // and read another entity: refuse it
    if (parts.length !== this.layout.keys.length) {
      return `one value per join key (${this.layout.keys.map((k) => k.name).join(', ')}) without the character U+001F, which separates them`;
    }
    for (let i = 0; i < this.layout.keys.length; i++) {
      const k = this.layout.keys[i];
      if (encodeJoinKeyValue(k.type, parts[i] ?? '') === null) return `an ${k.type} value for join key "${k.name}"`;
    }
    return null;
  }

  decode(values: readonly (string | Buffer | null)[], nowMs: number): FeatureRow {
    const n = this.shape.fields.length;
    let present = false;
    for (let i = 0; i <= n; i++) {
      if (values[i] !== null && values[i] !== undefined) {
        present = true;
        break;
      }
    }
    if (!present) return this.shape.missingEntityRow;
    const draft = new RowDraft(this.shape.dtype, this.shape.defaults);
    for (let i = 0; i < n; i++) {
      const raw = values[i];
      if (raw === null || raw === undefined) {
        draft.miss(i, REASON.missing_field);
        continue;
      }
      let scalar;
      try {
        scalar = decodeFeastValue(asBytes(raw));
      } catch {
        draft.miss(i, REASON.unparsable);
        continue;
      }
      if (scalar === UNSUPPORTED) draft.miss(i, REASON.unparsable);
      else draft.put(i, scalar);
    }
    let maxTtlMs = Infinity;
    const ts = values[n];
    if (this.maxAgeMs !== null && ts !== null && ts !== undefined) {
      let tsMs: number | null = null;
      try {
        tsMs = decodeTimestampMs(asBytes(ts));
      } catch {
        tsMs = null; // an unreadable timestamp: the age is unknown, the values are used
      }
      if (tsMs !== null) {
        const age = nowMs - tsMs;
        if (age > this.maxAgeMs) draft.missAll(REASON.stale, this.shape.defaults);
        else maxTtlMs = this.maxAgeMs - age;
      }
    }
    return draft.finish(maxTtlMs);
  }
}

function asBytes(v: string | Buffer): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
}
