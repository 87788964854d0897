import { GatewayError } from '../../core/index.js';

/**
 * A label as sent to POST /v2/feedback: a number, a boolean (1/0), a numeric string, or a
 * list of those (one per row of the request). Returns the numbers, or throws a
 * GatewayError (400) saying what was wrong.
 */
export function parseLabel(id: string, value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw badLabel(id, value, 'an empty list');
  const out = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) {
    const n = labelNumber(list[i]);
    if (n === null) throw badLabel(id, list[i], Array.isArray(value) ? `element ${i}` : 'the label');
    out[i] = n;
  }
  return out;
}

function labelNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function badLabel(id: string, got: unknown, what: string): GatewayError {
  const shown = JSON.stringify(got) ?? String(got);
  return new GatewayError(
    'SY_ERR_BAD_REQUEST',
    `label for request "${id}": ${what} is ${shown.length > 40 ? `${shown.slice(0, 40)}...` : shown}; expected a number (class index or target value), true/false, or a list of those with one per row`,
  );
}

/** The label's row count does not match the prediction's. */
export function rowMismatch(id: string, labels: number, rows: number): GatewayError {
  return new GatewayError(
    'SY_ERR_BAD_REQUEST',
    `label for request "${id}" has ${labels} value${labels === 1 ? '' : 's'}, its prediction has ${rows} row${rows === 1 ? '' : 's'}; send one label per row`,
  );
}
