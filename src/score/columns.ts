/**
 * Rows → input tensors of one row each (dim 0 = 1), by the model's signature.
 *
 * Column names are those of the drift reference: an input `x` of shape [-1, k] is either one
 * column `x` holding an array of k values, or k columns `x[0]` … `x[k-1]`; an input of shape
 * [-1] (or [-1, 1]) is one column `x` holding a scalar. An entity id column of the config's
 * feature views (e.g. `customer_id`) becomes a BYTES input of shape [1], and a row that
 * carries one may leave out the inputs the gateway fills from the views, as online.
 */
import { Tensor, toHalf, type Datatype, type TensorData, type TensorSpec } from '../core/index.js';

const ENCODER = new TextEncoder();

/** A row that cannot become tensors: the message says which column and why. */
export class RowError extends Error {}

interface InputPlan {
  readonly spec: TensorSpec;
  /** values per row; -1 when a dynamic dim makes it the array's length */
  readonly width: number;
  /** the shape of one row's tensor, -1 where the value decides */
  readonly rowShape: readonly number[];
  /** `x[0]` … column names, or null when the input cannot be split in columns */
  readonly split: readonly string[] | null;
}

const INT_RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
};

function planInput(spec: TensorSpec, batched: boolean): InputPlan {
  const rowShape = batched ? [1, ...spec.shape.slice(1)] : [...spec.shape];
  const dims = batched ? spec.shape.slice(1) : spec.shape;
  const dynamic = dims.some((d) => d < 0);
  const width = dynamic ? -1 : dims.reduce((a, b) => a * b, 1);
  const split = !dynamic && dims.length === 1 && width > 1 ? Array.from({ length: width }, (_, i) => `${spec.name}[${i}]`) : null;
  return { spec, width, rowShape, split };
}

/** How the columns of a file map to a model's inputs. */
export class RowMapper {
  private readonly plans: readonly InputPlan[];
  private readonly entities: ReadonlySet<string>;
  /** every column name that means something: inputs, their split columns, entity ids */
  private readonly known: ReadonlySet<string>;

  /** `batched`: dim 0 of every input is the batch (max_batch_size > 0). */
  constructor(inputs: readonly TensorSpec[], batched: boolean, entityColumns: Iterable<string>) {
    this.plans = inputs.map((s) => planInput(s, batched));
    const inputNames = new Set(inputs.map((s) => s.name));
    this.entities = new Set([...entityColumns].filter((c) => !inputNames.has(c)));
    const known = new Set<string>([...inputNames, ...this.entities]);
    for (const p of this.plans) for (const c of p.split ?? []) known.add(c);
    this.known = known;
  }

  /** What the columns mean, e.g. "x (16 values) or x[0] … x[15]; entity id customer_id". */
  describe(): string {
    const parts = this.plans.map((p) => (p.split === null ? `${p.spec.name}${p.width > 1 ? ` (an array of ${p.width})` : p.width < 0 ? ' (an array)' : ''}` : `${p.spec.name} (an array of ${p.width}) or ${p.split[0]} … ${p.split[p.split.length - 1]}`));
    const ents = [...this.entities];
    return `input columns ${parts.join(', ')}${ents.length > 0 ? `; entity id column${ents.length > 1 ? 's' : ''} ${ents.join(', ')}` : ''}`;
  }

  /**
   * Checks a set of columns (the CSV header, the first JSON row): every column known, and
   * every input given (unless an entity column is there). Returns the problem, or null.
   */
  checkColumns(columns: Iterable<string>): string | null {
    const have = new Set(columns);
    const unknown = [...have].filter((c) => !this.known.has(c));
    if (unknown.length > 0) return `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')}; the model takes ${this.describe()}`;
    const withEntity = [...this.entities].some((e) => have.has(e));
    if (!withEntity) {
      const missing = this.plans.filter((p) => !have.has(p.spec.name) && (p.split === null || !p.split.every((c) => have.has(c)))).map((p) => p.spec.name);
      if (missing.length > 0) return `no column for input${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}; the model takes ${this.describe()}`;
    }
    return null;
  }

  /** One row's tensors. Throws RowError naming the column and what was expected. */
  tensors(values: Readonly<Record<string, unknown>>): Tensor[] {
    const out: Tensor[] = [];
    let withEntity = false;
    for (const e of this.entities) {
      const v = values[e];
      if (v === undefined) continue;
      if (v === null || (typeof v !== 'string' && typeof v !== 'number')) throw new RowError(`column "${e}": an entity id must be a string or a number, got ${describe(v)}`);
      out.push(new Tensor(e, 'BYTES', [1], [ENCODER.encode(String(v))]));
      withEntity = true;
    }
    for (const key of Object.keys(values)) if (!this.known.has(key)) throw new RowError(`unknown column "${key}"; the model takes ${this.describe()}`);
    for (const p of this.plans) {
      const t = this.input(p, values, withEntity);
      if (t !== null) out.push(t);
    }
    return out;
  }

  private input(p: InputPlan, values: Readonly<Record<string, unknown>>, withEntity: boolean): Tensor | null {
    const name = p.spec.name;
    const dt = p.spec.datatype;
    const whole = values[name];
    if (whole !== undefined) {
      const flat = whole !== null && typeof whole === 'object' ? flatten(whole, name) : typeof whole === 'string' && whole.startsWith('[') ? flatten(parseArray(whole, name), name) : [whole];
      if (p.width >= 0 && flat.length !== p.width) throw new RowError(`column "${name}": expected ${p.width === 1 ? 'one value' : `${p.width} values`}, got ${flat.length}`);
      const shape = p.width >= 0 ? [...p.rowShape] : p.rowShape.map((d) => (d < 0 ? flat.length : d));
      if (p.width < 0 && p.rowShape.filter((d) => d < 0).length > 1) throw new RowError(`column "${name}": input "${name}" has more than one dynamic dimension; send the row as a KServe v2 request {"inputs": [...]} instead`);
      const data = allocateFor(dt, flat.length);
      for (let i = 0; i < flat.length; i++) setValue(data, i, dt, flat[i], flat.length > 1 ? `${name}[${i}]` : name);
      return new Tensor(name, dt, shape, data);
    }
    if (p.split !== null && values[p.split[0]] !== undefined) {
      const data = allocateFor(dt, p.width);
      for (let i = 0; i < p.width; i++) {
        const column = p.split[i];
        const v = values[column];
        if (v === undefined) throw new RowError(`column "${column}" is missing (input "${name}" takes ${p.split[0]} … ${p.split[p.width - 1]})`);
        setValue(data, i, dt, v, column);
      }
      return new Tensor(name, dt, [...p.rowShape], data);
    }
    if (withEntity) return null; // filled from the feature views by the gateway
    throw new RowError(`no value for input "${name}"; the model takes ${this.describe()}`);
  }
}

function parseArray(text: string, column: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new RowError(`column "${column}": "${text.slice(0, 40)}" is not a JSON array`);
  }
}

function flatten(v: unknown, column: string): unknown[] {
  if (!Array.isArray(v)) throw new RowError(`column "${column}": expected a value or an array of values, got ${describe(v)}`);
  if (!v.some(Array.isArray)) return v;
  const out: unknown[] = [];
  const walk = (a: unknown[]): void => {
    for (const x of a) if (Array.isArray(x)) walk(x); else out.push(x);
  };
  walk(v);
  return out;
}

function allocateFor(dt: Datatype, n: number): TensorData {
  switch (dt) {
    case 'BYTES':
      return new Array<Uint8Array>(n);
    case 'FP32':
      return new Float32Array(n);
    case 'FP64':
      return new Float64Array(n);
    case 'FP16':
    case 'UINT16':
      return new Uint16Array(n);
    case 'INT64':
      return new BigInt64Array(n);
    case 'UINT64':
      return new BigUint64Array(n);
    case 'INT32':
      return new Int32Array(n);
    case 'UINT32':
      return new Uint32Array(n);
    case 'INT16':
      return new Int16Array(n);
    case 'INT8':
      return new Int8Array(n);
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(n);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function fail(column: string, v: unknown, expected: string): never {
  throw new RowError(`column "${column}": ${describe(v)} is not ${expected}`);
}

function toNumber(v: unknown, column: string, dt: Datatype): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === 'NaN' || s === 'nan') return NaN;
    if (s === 'Infinity' || s === 'inf') return Infinity;
    if (s === '-Infinity' || s === '-inf') return -Infinity;
    const n = s === '' ? NaN : Number(s);
    if (!Number.isNaN(n)) return n;
  }
  return fail(column, v, `a number (input datatype ${dt})`);
}

function setValue(data: TensorData, i: number, dt: Datatype, v: unknown, column: string): void {
  switch (dt) {
    case 'FP32':
    case 'FP64':
      (data as Float32Array | Float64Array)[i] = toNumber(v, column, dt);
      return;
    case 'FP16':
      (data as Uint16Array)[i] = toHalf(toNumber(v, column, dt));
      return;
    case 'BOOL': {
      if (v === true || v === 1 || v === 'true' || v === '1') (data as Uint8Array)[i] = 1;
      else if (v === false || v === 0 || v === 'false' || v === '0') (data as Uint8Array)[i] = 0;
      else fail(column, v, 'a boolean (true, false, 1 or 0) for a BOOL input');
      return;
    }
    case 'BYTES':
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') (data as Uint8Array[])[i] = ENCODER.encode(String(v));
      else fail(column, v, 'a string for a BYTES input');
      return;
    case 'INT64':
    case 'UINT64': {
      let b: bigint;
      try {
        b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? BigInt(v.trim()) : fail(column, v, `an integer (input datatype ${dt})`);
      } catch (e) {
        if (e instanceof RowError) throw e;
        fail(column, v, `an integer (input datatype ${dt})`);
      }
      if (dt === 'UINT64' ? b < 0n || b > 0xffffffffffffffffn : b < -(2n ** 63n) || b >= 2n ** 63n) fail(column, v, `in range for ${dt}`);
      if (dt === 'UINT64') (data as BigUint64Array)[i] = b;
      else (data as BigInt64Array)[i] = b;
      return;
    }
    default: {
      const n = toNumber(v, column, dt);
      const range = INT_RANGE[dt]!;
      if (!Number.isInteger(n)) fail(column, v, `an integer (input datatype ${dt})`);
      if (n < range[0] || n > range[1]) fail(column, v, `in range for ${dt} (${range[0]} … ${range[1]})`);
      (data as Int32Array)[i] = n;
    }
  }
}
