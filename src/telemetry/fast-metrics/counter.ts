import { format } from 'node:util';
import { Counter, type CounterConfiguration, type LabelValues } from 'prom-client';
import { SeriesTable, labelsOf, validateLabels, type Internals, type Labels } from './series.js';

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

/** An entry prom-client made itself (before a series took its place). */
interface CounterEntry {
  labels: Labels;
  value: number;
}

/** A prom-client Counter with series() for the hot path. */
export class FastCounter<T extends string = string> extends Counter<T> {
  private readonly table: SeriesTable<CounterSeries, CounterEntry>;

  constructor(config: CounterConfiguration<T>) {
    if (config.enableExemplars === true) throw new Error('FastCounter does not support exemplars');
    super(config);
    // adopts an entry prom-client made (reset() of a metric without labels makes one at 0)
    this.table = new SeriesTable(this.internals, (labels, entry) => new CounterSeries(entry?.labels ?? { ...labels }, entry?.value ?? 0));
    // prom-client's constructor made `inc` an own property; this one goes through the series
    (this as { inc: unknown }).inc = this.incLabels;
  }

  /**
   * The series of these label values, in labelNames order (one per label): it exists
   * (at 0) from the first call. Keep it only until reset() or remove() of it.
   */
  series(a?: string, b?: string, c?: string, d?: string): CounterSeries {
    return this.table.series(a, b, c, d);
  }

  private get internals(): Internals<CounterSeries | CounterEntry> {
    return this as unknown as Internals<CounterSeries | CounterEntry>;
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
    this.table.ofLabels(labels).inc(value ?? 1);
  }

  override labels(...args: unknown[]): Counter.Internal {
    const labels = labelsOf(this.internals.labelNames, args);
    let s: CounterSeries | null = null;
    return {
      inc: (value?: number) => {
        if (s === null || s.detached) {
          validateLabels(this.internals.labelNames, labels);
          checkIncrement(value);
          s = this.table.ofLabels(labels);
        }
        s.inc(value ?? 1);
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
