import { format } from 'node:util';
import { Histogram, type HistogramConfiguration, type LabelValues } from 'prom-client';
import { SeriesTable, labelsOf, validateLabels, type Internals, type Labels } from './series.js';

/** One series of a FastHistogram: also prom-client's hashMap entry for it. Valid until reset() or remove() of it. */
export class HistogramSeries {
  readonly labels: Labels;
  readonly bucketValues: Record<number, number>;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];
  readonly #counts: Float64Array;
  #detached = false;

  constructor(labels: Labels, bounds: readonly number[], template: Record<number, number>) {
    this.labels = labels;
    this.bucketValues = { ...template };
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length);
  }

  /** Adds one observation: throws on a value that is not a finite number, as prom-client does. */
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
    // prom-client's findBound: the first bound >= value, in the order given (none: only sum and count)
    const bounds = this.#bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && !(value <= bounds[i])) i++;
    if (i < n) this.#counts[i] += 1;
    this.sum += value;
    this.count += 1;
  }

  /** Sets the series to no observations (prom-client's zero()). */
  clear(): void {
    this.#counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** Takes the values of an entry prom-client made. */
  adopt(entry: { bucketValues: Record<number, number>; sum: number; count: number }): void {
    const bounds = this.#bounds;
    const seen = new Set<number>();
    for (let i = 0; i < bounds.length; i++) {
      // a bound given twice is one key of bucketValues; prom-client counts it at the first
      if (!seen.has(bounds[i])) this.#counts[i] = entry.bucketValues[bounds[i]] ?? 0;
      seen.add(bounds[i]);
    }
    this.sum = entry.sum;
    this.count = entry.count;
  }

  /** Copies the bucket counts into bucketValues, where prom-client reads them. */
  sync(): void {
    const bounds = this.#bounds;
    const values = this.bucketValues;
    for (let i = 0; i < bounds.length; i++) values[bounds[i]] = 0;
    for (let i = 0; i < bounds.length; i++) values[bounds[i]] += this.#counts[i];
  }

  /** @internal */
  get detached(): boolean {
    return this.#detached;
  }

  /** @internal */
  detach(): void {
    this.#detached = true;
  }
}

/** An entry prom-client made itself (before a series took its place). */
interface HistogramEntry {
  labels: Labels;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

interface HistogramInternals extends Internals<HistogramSeries | HistogramEntry> {
  upperBounds: readonly number[];
  bucketValues: Record<number, number>;
  collect?: (this: unknown) => void | Promise<void>;
}

/** A prom-client Histogram with series() for the hot path. */
export class FastHistogram<T extends string = string> extends Histogram<T> {
  private readonly table: SeriesTable<HistogramSeries, HistogramEntry>;

  constructor(config: HistogramConfiguration<T>) {
    if (config.enableExemplars === true) throw new Error('FastHistogram does not support exemplars');
    super(config);
    const m = this.internals;
    // adopts an entry prom-client made (its constructor makes one for a metric without labels)
    this.table = new SeriesTable(m, (labels, entry) => {
      const s = new HistogramSeries(entry?.labels ?? { ...labels }, m.upperBounds, m.bucketValues);
      if (entry !== undefined) s.adopt(entry);
      return s;
    });
    // prom-client's constructor made `observe` an own property; this one goes through the series
    (this as { observe: unknown }).observe = this.observeLabels;
    // prom-client reads hashMap right after collect: copy the bucket counts in then
    const own = m.collect;
    const sync = (): void => {
      for (const s of this.table.values()) s.sync();
    };
    m.collect = function (this: unknown) {
      const v = own?.call(this);
      if (v instanceof Promise) return v.then(sync);
      sync();
    };
  }

  /**
   * The series of these label values, in labelNames order (one per label): it exists
   * (with no observations) from the first call. Keep it only until reset() or remove() of it.
   */
  series(a?: string, b?: string, c?: string, d?: string): HistogramSeries {
    return this.table.series(a, b, c, d);
  }

  private get internals(): HistogramInternals {
    return this as unknown as HistogramInternals;
  }

  /** prom-client's observe(labels?, value). */
  private observeLabels(labels: LabelValues<T> | number, value?: number): void {
    // as prom-client: 0 is a value, any other falsy first argument no labels
    const first: Labels | number = labels === 0 ? 0 : (labels as Labels | number | null | undefined) || {};
    let given: Labels;
    if (typeof first === 'object') {
      given = first;
      validateLabels(this.internals.labelNames, given);
    } else {
      value = first;
      given = {};
    }
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
    this.table.ofLabels(given).observe(value as number);
  }

  override zero(labels: LabelValues<T>): void {
    this.table.ofLabels(labels).clear();
  }

  override labels(...args: unknown[]): Histogram.Internal<T> {
    const labels = labelsOf(this.internals.labelNames, args);
    validateLabels(this.internals.labelNames, labels);
    let s: HistogramSeries | null = null;
    const observe = (value: number): void => {
      if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
      if (s === null || s.detached) s = this.table.ofLabels(labels);
      s.observe(value);
    };
    return {
      observe,
      startTimer: () => {
        const start = process.hrtime();
        return (end?: LabelValues<T>) => {
          const delta = process.hrtime(start);
          const value = delta[0] + delta[1] / 1e9;
          this.observe({ ...labels, ...end } as LabelValues<T>, value);
          return value;
        };
      },
    };
  }

  override remove(...args: unknown[]): void {
    this.table.remove(args);
  }

  override reset(): void {
    super.reset();
    // also called by prom-client's constructor, before this.table exists
    if (this.table !== undefined) this.table.clear();
  }
}
