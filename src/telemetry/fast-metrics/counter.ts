import { format } from 'node:util';
import { Counter, type CounterConfiguration, type LabelValues } from 'prom-client';
import { SeriesIndex, hashOf, labelsFromValues, labelsOf, validateLabels, type Internals, type Labels } from './series.js';

/** One series of a FastCounter: also prom-client's hashMap entry for it. Valid until reset() or remove() of it. */
export class CounterSeries {
  value: number;
  readonly labels: Labels;
  #detached = false;

  constructor(labels: Labels, value: number) {
    this.value = value;
    this.labels = labels;
  }

  /** Adds `value` (default 1), with prom-client's checks: finite, not negative. */
  inc(value?: number): void {
    if (value === undefined) {
      this.value += 1;
      return;
    }
    checkIncrement(value);
    this.value += value === null ? 1 : value;
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

function checkIncrement(value: number | null | undefined): void {
  if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
  if (value !== null && value !== undefined && value < 0) throw new Error('It is not possible to decrease a counter');
}

/** A prom-client Counter with series() for the hot path. */
export class FastCounter<T extends string = string> extends Counter<T> {
  private readonly index: SeriesIndex<CounterSeries>;

  constructor(config: CounterConfiguration<T>) {
    if (config.enableExemplars === true) throw new Error('FastCounter does not support exemplars');
    super(config);
    this.index = new SeriesIndex(this.internals.labelNames.length);
    // prom-client's constructor made `inc` an own property; this one goes through the series
    (this as { inc: unknown }).inc = this.incLabels;
  }

  /**
   * The series of these label values, in labelNames order (one per label): it exists
   * (at 0) from the first call. Keep it only until reset() or remove() of it.
   */
  series(a?: string, b?: string, c?: string, d?: string): CounterSeries {
    return this.index.find(a, b, c, d) ?? this.create(a, b, c, d);
  }

  private get internals(): Internals<CounterSeries> {
    return this as unknown as Internals<CounterSeries>;
  }

  private create(a: unknown, b: unknown, c: unknown, d: unknown): CounterSeries {
    const s = this.ofLabels(labelsFromValues(this.internals.labelNames, a, b, c, d));
    this.index.place(s, a, b, c, d);
    return s;
  }

  /** The series of a labels object, found or created by its prom-client hash. */
  private ofLabels(labels: Labels): CounterSeries {
    const m = this.internals;
    const hash = hashOf(m.sortedLabelNames, labels);
    let s = this.index.byHashGet(hash);
    if (s === undefined) {
      // adopt an entry prom-client made (reset() of a metric without labels makes one at 0)
      const entry = m.hashMap[hash];
      s = new CounterSeries(entry?.labels ?? { ...labels }, entry?.value ?? 0);
      m.hashMap[hash] = s;
      this.index.byHashSet(hash, s);
    }
    return s;
  }

  /** prom-client's inc(labels?, value?). */
  private incLabels(labels?: LabelValues<T> | number, value?: number): void {
    if (typeof labels !== 'object' || labels === null) {
      value = labels;
      labels = {};
    } else {
      validateLabels(this.internals.labelNames, labels);
    }
    checkIncrement(value);
    this.ofLabels(labels).inc(value ?? 1);
  }

  override labels(...args: unknown[]): Counter.Internal {
    const labels = labelsOf(this.internals.labelNames, args);
    let s: CounterSeries | null = null;
    return {
      inc: (value?: number) => {
        if (s === null || s.detached) {
          validateLabels(this.internals.labelNames, labels);
          checkIncrement(value);
          s = this.ofLabels(labels);
        }
        s.inc(value ?? 1);
      },
    };
  }

  override remove(...args: unknown[]): void {
    const m = this.internals;
    const labels = labelsOf(m.labelNames, args);
    validateLabels(m.labelNames, labels);
    const hash = hashOf(m.sortedLabelNames, labels);
    this.index.delete(hash)?.detach();
    delete m.hashMap[hash];
  }

  override reset(): void {
    super.reset();
    // also called by prom-client's constructor, before this.index exists
    if (this.index !== undefined) for (const s of this.index.clear()) s.detach();
  }
}
