/**
 * The drift statistics, on sorted samples. Pure functions; the drift monitor runs them on a
 * timer, off the request path.
 */

/** Proportions below this count as this much in PSI, so an empty bin does not make it infinite. */
export const PSI_EPSILON = 1e-4;

/** The bin of `x` for interior cut points `edges` (ascending): the number of edges <= x. */
export function binIndex(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Proportion of `values` in each of the edges.length + 1 bins. */
export function binProportions(edges: ArrayLike<number>, values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(edges.length + 1);
  if (values.length === 0) return out;
  for (let i = 0; i < values.length; i++) out[binIndex(edges, values[i])]++;
  for (let b = 0; b < out.length; b++) out[b] /= values.length;
  return out;
}

/**
 * Population Stability Index of `actual` against `expected` (proportions over the same
 * bins): sum over bins of (a - e) * ln(a / e), each proportion at least PSI_EPSILON.
 * 0 = same distribution; 0.1 moderate shift; 0.25 and above a large one.
 */
export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  let sum = 0;
  for (let b = 0; b < expected.length; b++) {
    const e = Math.max(expected[b], PSI_EPSILON);
    const a = Math.max(actual[b], PSI_EPSILON);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/**
 * Two-sample Kolmogorov-Smirnov statistic: the largest distance between the empirical
 * CDFs of two ascending samples (ties handled: both CDFs step past equal values together).
 * 0 = identical; 1 = disjoint. Empty input gives 0.
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return 0;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = a[i] <= b[j] ? a[i] : b[j];
    while (i < n && a[i] <= x) i++;
    while (j < m && b[j] <= x) j++;
    const gap = Math.abs(i / n - j / m);
    if (gap > d) d = gap;
  }
  return d;
}

/** Quantile of an ascending sample at probability p (linear interpolation, type 7). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Value of the piecewise-linear quantile function through knots (probabilities[i],
 * values[i]) at p; probabilities ascending from 0 to 1. Equal neighbouring values make a
 * flat stretch: a point mass, which keeps discrete columns discrete.
 */
export function interpolateQuantile(probabilities: ArrayLike<number>, values: ArrayLike<number>, p: number): number {
  const k = binIndex(probabilities, p);
  if (k <= 0) return values[0];
  if (k >= probabilities.length) return values[values.length - 1];
  const p0 = probabilities[k - 1];
  const p1 = probabilities[k];
  const v0 = values[k - 1];
  const v1 = values[k];
  return p1 === p0 ? v1 : v0 + ((p - p0) / (p1 - p0)) * (v1 - v0);
}
