import { GatewayError, shapeToString, type Tensor } from '../core/index.js';
import type { FeatureBinding } from './compile.js';
import { ID_SEPARATOR } from './view.js';

const utf8 = new TextDecoder('utf-8');

/** The tensor named `name` in `inputs`, or null. */
export function findInput(inputs: readonly Tensor[], name: string): Tensor | null {
  for (let i = 0; i < inputs.length; i++) if (inputs[i].name === name) return inputs[i];
  return null;
}

/**
 * The entity ids of each view of a binding, read from the request's BYTES inputs (shape [n]
 * or [n,1]; one id per row, UTF-8). Views with several entity inputs (Feast, several join
 * keys) get their values joined by ID_SEPARATOR. Throws a 400 GatewayError for what the
 * client got wrong: a missing entity input, another datatype or shape, inputs that disagree
 * on the number of rows, an id the view's keys cannot hold.
 */
export function readEntityIds(inputs: readonly Tensor[], binding: FeatureBinding): { rows: number; ids: string[][] } {
  const byInput = new Map<string, string[]>();
  let rows = -1;
  let firstInput = '';
  for (const name of binding.entityInputs) {
    const t = findInput(inputs, name);
    if (t === null) {
      const views = binding.views.filter((v) => v.entityInputs.includes(name)).map((v) => `"${v.name}"`);
      throw new GatewayError(
        'SY_ERR_INVALID_INPUT',
        `model "${binding.model}": the request has no input "${binding.input}", so it is filled from feature view${views.length > 1 ? 's' : ''} ${views.join(', ')}, which need${views.length > 1 ? '' : 's'} the BYTES input "${name}" with one entity id per row (shape [n] or [n,1]); send "${name}", or "${binding.input}" itself`,
      );
    }
    if (t.datatype !== 'BYTES') {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `input "${name}" carries entity ids for feature views and must be BYTES, got ${t.datatype}`);
    }
    if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1))) {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `input "${name}" must have shape [n] or [n,1] (one entity id per row), got ${shapeToString(t.shape)}`);
    }
    const data = t.data as Uint8Array[];
    if (rows === -1) {
      rows = t.shape[0];
      firstInput = name;
    } else if (t.shape[0] !== rows) {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `entity inputs disagree on the number of rows: "${firstInput}" has ${rows}, "${name}" has ${t.shape[0]}; send one id per row in each`);
    }
    if (data.length !== rows) {
      throw new GatewayError('SY_ERR_INVALID_INPUT', `input "${name}" has shape ${shapeToString(t.shape)} but ${data.length} elements`);
    }
    const ids = new Array<string>(rows);
    for (let i = 0; i < rows; i++) ids[i] = utf8.decode(data[i]);
    byInput.set(name, ids);
  }
  const out: string[][] = [];
  for (const view of binding.views) {
    let ids: string[];
    if (view.entityInputs.length === 1) ids = byInput.get(view.entityInputs[0])!;
    else {
      const columns = view.entityInputs.map((name) => byInput.get(name)!);
      ids = new Array<string>(rows);
      for (let i = 0; i < rows; i++) ids[i] = columns.map((c) => c[i]).join(ID_SEPARATOR);
    }
    if (view.format === 'feast') {
      for (let i = 0; i < ids.length; i++) {
        const invalid = view.codec.invalidId(ids[i]);
        if (invalid !== null) {
          throw new GatewayError(
            'SY_ERR_INVALID_INPUT',
            `entity id ${JSON.stringify(ids[i].split(ID_SEPARATOR).join(','))} (row ${i}) of feature view "${view.name}" is not ${invalid}`,
          );
        }
      }
    }
    out.push(ids);
  }
  return { rows: Math.max(rows, 0), ids: out };
}
