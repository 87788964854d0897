/**
 * Reference distributions: what "no drift" looks like for each column of a model version.
 *
 * ## reference.json
 * Lives beside the model file: `<model_repository>/<model>/<version>/reference.json`.
 * `switchyard drift reference --model m --version v --file sample.jsonl|csv` writes it from a
 * sample (see sample-file.ts); it may also be written by hand or by a training pipeline.
 *
 * ```json
 * {
 *   "format": "switchyard-drift-reference/1",
 *   "model_name": "tabular",          // optional, informational
 *   "model_version": "1",             // optional, informational
 *   "created": "2025-01-01T00:00:00Z",// optional, informational
 *   "sample_size": 5000,              // optional, informational
 *   "columns": {
 *     "x[0]":  { "quantiles": { "probabilities": [0, 0.01, ..., 1], "values": [-2.9, -2.3, ..., 3.1] } },
 *     "label": { "histogram": { "edges": [-0.5, 0.5, 1.5, 2.5], "counts": [310, 402, 288] } }
 *   }
 * }
 * ```
 * Column names are those of the drift gauges: `<tensor>[<i>]` for column i of a 2-D tensor
 * ([rows, columns]), `<tensor>` for a 1-D one (one value per row). Each column has either
 * - `quantiles`: `probabilities` strictly ascending from exactly 0 to exactly 1, and the
 *   column's `values` at them (non-decreasing; equal neighbours mark a point mass), or
 * - `histogram`: `edges` (B+1 strictly ascending bin edges) and `counts` (B non-negative
 *   numbers, not all 0): PSI is computed on these bins, KS at these edges.
 * Columns of the model missing from the file take their reference from traffic (the first
 * `drift.reference_requests` requests); columns the model does not have are ignored.
 *
 * ## In memory
 * A sample or quantiles become REFERENCE_POINTS sorted points (the quantile function at
 * evenly spaced probabilities): the two-sample KS statistic compares the window with them,
 * and PSI uses bins cut at their deciles (duplicates merged, so a discrete column gets one
 * bin per value). A histogram is used as given: PSI on its bins, KS on its edges (the only
 * places its CDF is known; between them nothing is assumed, so discrete columns work).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { binProportions, interpolateQuantile, ksTwoSample, psi, quantileSorted } from './statistics.js';

export const REFERENCE_FORMAT = 'switchyard-drift-reference/1';
/** Points a reference is reduced to (KS sample size). */
export const REFERENCE_POINTS = 1000;
/** PSI bins (before merging duplicate cut points). */
export const PSI_BINS = 10;
/** Probabilities of the quantiles written to reference.json: 0, 0.01, …, 1. */
export const WRITTEN_QUANTILES = Array.from({ length: 101 }, (_, i) => i / 100);

const finite = Type.Number();
const QuantilesSchema = Type.Object(
  { probabilities: Type.Array(finite, { minItems: 2 }), values: Type.Array(finite, { minItems: 2 }) },
  { additionalProperties: false },
);
const HistogramSchema = Type.Object(
  { edges: Type.Array(finite, { minItems: 2 }), counts: Type.Array(Type.Number({ minimum: 0 }), { minItems: 1 }) },
  { additionalProperties: false },
);
const ColumnSchema = Type.Union([
  Type.Object({ quantiles: QuantilesSchema }, { additionalProperties: false }),
  Type.Object({ histogram: HistogramSchema }, { additionalProperties: false }),
]);
export const ReferenceFileSchema = Type.Object(
  {
    format: Type.Literal(REFERENCE_FORMAT),
    model_name: Type.Optional(Type.String()),
    model_version: Type.Optional(Type.String()),
    created: Type.Optional(Type.String()),
    sample_size: Type.Optional(Type.Integer({ minimum: 0 })),
    columns: Type.Record(Type.String({ minLength: 1 }), ColumnSchema),
  },
  { additionalProperties: false },
);
export type ReferenceFile = Static<typeof ReferenceFileSchema>;
export type ReferenceColumn = Static<typeof ColumnSchema>;

const checkFile = TypeCompiler.Compile(ReferenceFileSchema);

/** A reference.json that does not follow the format; the message says where and why. */
export class ReferenceFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceFormatError';
  }
}

/** Parses and checks reference.json text; throws ReferenceFormatError naming the first problem. */
export function parseReferenceFile(text: string): ReferenceFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ReferenceFormatError(`not JSON: ${(e as Error).message}`);
  }
  if (!checkFile.Check(data)) {
    const first = checkFile.Errors(data).First();
    const at = first === undefined || first.path === '' ? 'the document' : first.path;
    throw new ReferenceFormatError(`at ${at}: ${first?.message ?? 'invalid'}; expected the ${REFERENCE_FORMAT} format (see src/telemetry/drift/reference.ts)`);
  }
  for (const [name, column] of Object.entries(data.columns)) checkColumn(name, column);
  return data;
}

function checkColumn(name: string, column: ReferenceColumn): void {
  const fail = (what: string): never => {
    throw new ReferenceFormatError(`column "${name}": ${what}`);
  };
  if ('quantiles' in column) {
    const { probabilities: p, values: v } = column.quantiles;
    if (p.length !== v.length) fail(`quantiles have ${p.length} probabilities and ${v.length} values; expected as many of each`);
    if (p[0] !== 0 || p[p.length - 1] !== 1) fail('quantile probabilities must start at 0 and end at 1');
    for (let i = 1; i < p.length; i++) {
      if (!(p[i] > p[i - 1])) fail(`quantile probabilities must be strictly ascending (index ${i})`);
      if (!(v[i] >= v[i - 1])) fail(`quantile values must not decrease (index ${i})`);
    }
  } else {
    const { edges, counts } = column.histogram;
    if (edges.length !== counts.length + 1) fail(`histogram has ${edges.length} edges and ${counts.length} counts; expected one edge more than counts`);
    for (let i = 1; i < edges.length; i++) if (!(edges[i] > edges[i - 1])) fail(`histogram edges must be strictly ascending (index ${i})`);
    if (!(counts.reduce((a, b) => a + b, 0) > 0)) fail('histogram counts are all 0');
  }
}

/** One column's reference, ready for the statistics. Immutable. */
export class ColumnReference {
  /** PSI cut points, ascending and distinct */
  readonly edges: Float64Array;
  /** the reference's proportion in each PSI bin (edges.length + 1) */
  readonly expected: Float64Array;
  /** where it came from */
  readonly source: 'file' | 'traffic';
  /** sample form: REFERENCE_POINTS values, ascending (two-sample KS against them); null for a histogram */
  readonly points: Float64Array | null;
  /** histogram form: its bin edges and the reference CDF at each (KS on the edges); null for a sample */
  private readonly cdfAt: Float64Array | null;
  private readonly cdf: Float64Array | null;

  private constructor(
    source: 'file' | 'traffic',
    points: Float64Array | null,
    edges: Float64Array,
    expected: Float64Array,
    cdfAt: Float64Array | null,
    cdf: Float64Array | null,
  ) {
    this.source = source;
    this.points = points;
    this.edges = edges;
    this.expected = expected;
    this.cdfAt = cdfAt;
    this.cdf = cdf;
  }

  /** PSI cut points at the deciles of ascending points (duplicates merged: one bin per value of a discrete column). */
  private static fromPoints(points: Float64Array, source: 'file' | 'traffic'): ColumnReference {
    const cuts: number[] = [];
    for (let j = 1; j < PSI_BINS; j++) {
      const c = points[Math.floor((points.length * j) / PSI_BINS)];
      if (cuts.length === 0 || c > cuts[cuts.length - 1]) cuts.push(c);
    }
    const edges = Float64Array.from(cuts);
    return new ColumnReference(source, points, edges, binProportions(edges, points), null, null);
  }

  /** From a quantile function given by knots (probabilities 0…1, values). */
  static fromQuantiles(probabilities: readonly number[], values: readonly number[], source: 'file' | 'traffic' = 'file'): ColumnReference {
    const points = new Float64Array(REFERENCE_POINTS);
    for (let k = 0; k < REFERENCE_POINTS; k++) points[k] = interpolateQuantile(probabilities, values, (k + 0.5) / REFERENCE_POINTS);
    return ColumnReference.fromPoints(points, source);
  }

  /**
   * From a histogram: PSI on its own bins (values below the first edge count in the first
   * bin, above the last in the last), KS on its edges (where its CDF is known exactly).
   */
  static fromHistogram(edges: readonly number[], counts: readonly number[]): ColumnReference {
    const total = counts.reduce((a, b) => a + b, 0);
    const expected = Float64Array.from(counts, (c) => c / total);
    const cdf = new Float64Array(edges.length);
    for (let j = 1; j < edges.length; j++) cdf[j] = cdf[j - 1] + expected[j - 1];
    cdf[edges.length - 1] = 1;
    return new ColumnReference('file', null, Float64Array.from(edges.slice(1, -1)), expected, Float64Array.from(edges), cdf);
  }

  /** From raw values (a sample served or read from a file); null when none is finite. */
  static fromSample(values: ArrayLike<number>, source: 'file' | 'traffic' = 'traffic'): ColumnReference | null {
    const sorted = finiteSorted(values);
    if (sorted.length === 0) return null;
    const points = new Float64Array(REFERENCE_POINTS);
    for (let k = 0; k < REFERENCE_POINTS; k++) points[k] = sorted[Math.min(sorted.length - 1, Math.floor(((k + 0.5) / REFERENCE_POINTS) * sorted.length))];
    return ColumnReference.fromPoints(points, source);
  }

  static fromFileColumn(column: ReferenceColumn): ColumnReference {
    return 'quantiles' in column
      ? ColumnReference.fromQuantiles(column.quantiles.probabilities, column.quantiles.values)
      : ColumnReference.fromHistogram(column.histogram.edges, column.histogram.counts);
  }

  /** PSI of an ascending window against this reference. */
  psi(sortedWindow: ArrayLike<number>): number {
    return psi(this.expected, binProportions(this.edges, sortedWindow));
  }

  /** KS statistic of an ascending window against this reference. */
  ks(sortedWindow: ArrayLike<number>): number {
    if (this.points !== null) return ksTwoSample(sortedWindow, this.points);
    const at = this.cdfAt as Float64Array;
    const cdf = this.cdf as Float64Array;
    const n = sortedWindow.length;
    if (n === 0) return 0;
    let d = 0;
    for (let j = 0; j < at.length; j++) {
      // the window's share strictly below the edge (bins are [lower, upper))
      const below = lowerBound(sortedWindow, at[j]) / n;
      d = Math.max(d, Math.abs(below - cdf[j]));
    }
    return d;
  }
}

function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out[n++] = values[i];
  return out.subarray(0, n).sort();
}

/** The reference.json quantiles of one column's sample (WRITTEN_QUANTILES), or null when it has no finite value. */
export function quantilesOf(values: ArrayLike<number>): ReferenceColumn | null {
  const sorted = finiteSorted(values);
  if (sorted.length === 0) return null;
  const out = WRITTEN_QUANTILES.map((p) => quantileSorted(sorted, p));
  // interpolation can round a hair below its left neighbour: keep the values non-decreasing
  for (let i = 1; i < out.length; i++) if (out[i] < out[i - 1]) out[i] = out[i - 1];
  return { quantiles: { probabilities: [...WRITTEN_QUANTILES], values: out } };
}
