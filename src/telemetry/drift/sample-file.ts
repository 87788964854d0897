/**
 * Reads a sample of a model's traffic into columns, for writing reference.json.
 *
 * Formats, by file extension:
 * - `.jsonl` / `.ndjson` / `.json`: one JSON object per line, each either
 *   - a KServe v2 request or response: `{"inputs": [{"name": "x", "shape": [2, 16], "data": [...]}], "outputs": [...]}`
 *     (data flat or nested, row-major);
 *   - a request log record with a payload (`{"payload": {"inputs": [...], "outputs": [...]}}`;
 *     records whose payload is null are skipped): a log written with payload_sample_rate > 0 is a sample;
 *   - a plain object of columns: `{"x": [16 numbers], "label": 2}`.
 *   A tensor or array of shape [rows, k] gives columns `name[0]` … `name[k-1]`; one of
 *   shape [rows] (or a number) gives column `name`.
 * - `.csv`: a header row of column names (use the drift names, e.g. `x[0],x[1],…`), then one
 *   row of numbers per line; empty cells are skipped.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** Tensors wider than this are skipped: drift watches at most 256 columns per tensor. */
const MAX_SAMPLE_COLUMNS = 256;

/** A sample file that cannot be read as one of the formats; the message names the line. */
export class SampleFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SampleFileError';
  }
}

/** Column name → values, in file order. */
export type SampleColumns = Map<string, number[]>;

export async function readSampleFile(file: string): Promise<SampleColumns> {
  const ext = path.extname(file).toLowerCase();
  const columns: SampleColumns = new Map();
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  const base = path.basename(file);
  if (ext === '.csv') {
    let header: string[] | null = null;
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
      if (header === null) {
        header = cells;
        if (new Set(header).size !== header.length || header.some((h) => h === '')) {
          throw new SampleFileError(`${base} line ${n}: the header must name every column once`);
        }
        continue;
      }
      if (cells.length !== header.length) throw new SampleFileError(`${base} line ${n}: ${cells.length} cells, expected ${header.length} as in the header`);
      for (let i = 0; i < cells.length; i++) {
        if (cells[i] === '') continue;
        const v = Number(cells[i]);
        if (!Number.isFinite(v)) throw new SampleFileError(`${base} line ${n}, column "${header[i]}": "${cells[i]}" is not a number`);
        push(columns, header[i], v);
      }
    }
    if (header === null) throw new SampleFileError(`${base}: empty; expected a header row and rows of numbers`);
    return columns;
  }
  if (ext !== '.jsonl' && ext !== '.ndjson' && ext !== '.json') {
    throw new SampleFileError(`${base}: unknown sample format "${ext}"; expected .jsonl, .ndjson, .json or .csv`);
  }
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new SampleFileError(`${base} line ${n}: not JSON; expected one JSON object per line`);
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new SampleFileError(`${base} line ${n}: expected a JSON object`);
    addObject(columns, o as Record<string, unknown>, `${base} line ${n}`);
  }
  return columns;
}

function push(columns: SampleColumns, name: string, v: number): void {
  let list = columns.get(name);
  if (list === undefined) {
    list = [];
    columns.set(name, list);
  }
  list.push(v);
}

function addObject(columns: SampleColumns, o: Record<string, unknown>, where: string): void {
  if ('payload' in o) {
    const payload = o.payload;
    if (payload === null) return;
    if (typeof payload !== 'object' || Array.isArray(payload)) throw new SampleFileError(`${where}: "payload" is not an object`);
    addObject(columns, payload as Record<string, unknown>, where);
    return;
  }
  if (Array.isArray(o.inputs) || Array.isArray(o.outputs)) {
    for (const key of ['inputs', 'outputs'] as const) {
      const list = o[key];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) throw new SampleFileError(`${where}: "${key}" is not a list of tensors`);
      for (const t of list) addTensor(columns, t, where);
    }
    return;
  }
  for (const [name, value] of Object.entries(o)) addValues(columns, name, value, null, where);
}

function addTensor(columns: SampleColumns, t: unknown, where: string): void {
  if (t === null || typeof t !== 'object') throw new SampleFileError(`${where}: a tensor is not an object`);
  const { name, shape, data } = t as Record<string, unknown>;
  if (typeof name !== 'string') throw new SampleFileError(`${where}: a tensor has no "name"`);
  if (data === undefined) return; // binary or summarised output: nothing to read
  const dims = Array.isArray(shape) && shape.every((d) => typeof d === 'number') ? (shape as number[]) : null;
  addValues(columns, name, data, dims, where);
}

/** Adds `value` (number, flat list, or nested rows) under `name`; `shape` says how a flat list splits into rows. */
function addValues(columns: SampleColumns, name: string, value: unknown, shape: number[] | null, where: string): void {
  if (typeof value === 'number' || typeof value === 'boolean') {
    push(columns, name, Number(value));
    return;
  }
  if (!Array.isArray(value)) return; // strings and objects are not columns
  const flat = value.flat(Infinity) as unknown[];
  if (!flat.every((v) => typeof v === 'number' || typeof v === 'boolean')) return;
  const width = shape !== null ? (shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1) : Array.isArray(value[0]) ? (value[0] as unknown[]).length : value.length;
  const rank1 = shape !== null ? shape.length <= 1 : false;
  if (width > MAX_SAMPLE_COLUMNS) return; // images and the like: not watched for drift (drift.max_columns <= 256)
  if (width <= 0 || flat.length % width !== 0) throw new SampleFileError(`${where}: "${name}" holds ${flat.length} values, not whole rows of ${width}`);
  for (let i = 0; i < flat.length; i++) {
    const c = i % width;
    push(columns, rank1 ? name : `${name}[${c}]`, Number(flat[i]));
  }
}
