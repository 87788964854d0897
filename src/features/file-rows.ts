import { parseFeature } from './parse.js';
import { ID_SEPARATOR, type FeatureView } from './view.js';

/**
 * What a record of a feature file says about one entity of a view: its id (from the id
 * columns) and its field values. Shared by the in-memory store and the loader so that a
 * file means the same in both.
 */

/** The entity id of a record, or why it has none. */
export function recordId(view: FeatureView, values: Readonly<Record<string, unknown>>): { id: string; error: null } | { id: null; error: string } {
  const parts: string[] = [];
  for (const column of view.idColumns) {
    const v = values[column];
    if ((typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint') || String(v).trim() === '') {
      return { id: null, error: `no entity id: column "${column}" is missing or empty` };
    }
    parts.push(String(v).trim());
  }
  const id = parts.join(ID_SEPARATOR);
  const invalid = view.codec.invalidId(id);
  return invalid === null ? { id, error: null } : { id: null, error: `entity id ${JSON.stringify(parts.join(','))} is not ${invalid}` };
}

/** One field's value in a record: its text (null = missing), or why it does not parse to the view's dtype. */
export function recordField(view: FeatureView, values: Readonly<Record<string, unknown>>, field: string): { text: string | null; error: string | null } {
  const v = values[field];
  if (v === undefined || v === null || v === '') return { text: null, error: null };
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    return { text: null, error: `field "${field}": ${JSON.stringify(v)} is not a value of dtype ${view.dtype}` };
  }
  const text = typeof v === 'string' ? v.trim() : String(v);
  if (parseFeature(view.dtype, v) === null) return { text: null, error: `field "${field}": ${JSON.stringify(v)} is not a value of dtype ${view.dtype}` };
  return { text, error: null };
}
