import { RowDraft, type FeatureRow } from './row.js';
import type { ViewCodec, ViewShape } from './view.js';

/**
 * Hash views: one Redis hash per entity at `key` ("customer:{id}"), one field per feature
 * holding its value as text ("42", "0.5", "true"). A hash with none of the fields reads
 * like a missing entity (Redis cannot tell the two apart with HMGET).
 */
export class HashCodec implements ViewCodec {
  readonly binary = false;
  readonly hashFields: readonly string[];
  private readonly shape: ViewShape;
  private readonly prefix: string;
  private readonly suffix: string;
  /** the template when {id} appears more than once, else null */
  private readonly template: string | null;

  constructor(shape: ViewShape, keyTemplate: string) {
    this.shape = shape;
    this.hashFields = shape.fields;
    const at = keyTemplate.indexOf('{id}');
    const repeated = keyTemplate.indexOf('{id}', at + 4) !== -1;
    this.template = repeated ? keyTemplate : null;
    this.prefix = keyTemplate.slice(0, at);
    this.suffix = keyTemplate.slice(at + 4);
  }

  key(id: string): string {
    return this.template === null ? this.prefix + id + this.suffix : this.template.replaceAll('{id}', id);
  }

  invalidId(): null {
    return null;
  }

  decode(values: readonly (string | Buffer | null)[]): FeatureRow {
    return decodeValues(this.shape, values);
  }
}

/**
 * The row for one value per field (text, or JSON values from a file); all missing → the
 * view's missing-entity row.
 */
export function decodeValues(shape: ViewShape, values: readonly unknown[]): FeatureRow {
  let present = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && v !== '') {
      present = true;
      break;
    }
  }
  if (!present) return shape.missingEntityRow;
  const draft = new RowDraft(shape.dtype, shape.defaults);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    draft.put(i, Buffer.isBuffer(v) ? v.toString('utf8') : v);
  }
  return draft.finish();
}
