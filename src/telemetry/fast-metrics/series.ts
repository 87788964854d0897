/** What FastCounter and FastHistogram share: finding a series by label values, prom-client's label rules. */
import { format } from 'node:util';

/** The most labels series() takes: it has one parameter per label, so that no call allocates. */
const MAX_LABELS = 4;

export type Labels = Record<string, string | number | undefined>;

/** The prom-client fields used here (not in its type declarations). */
export interface Internals<E> {
  hashMap: Record<string, E | undefined>;
  labelNames: readonly string[];
  sortedLabelNames: readonly string[];
}

/** prom-client's hashObject with sorted label names (lib/util.js fastHashObject). */
export function hashOf(sortedNames: readonly string[], labels: Labels): string {
  let hash = '';
  for (const name of sortedNames) {
    const value = labels[name];
    if (value !== undefined) hash += `${name}:${value},`;
  }
  return hash;
}

/** prom-client's validateLabel: every key must be a label name. */
export function validateLabels(names: readonly string[], labels: Labels): void {
  for (const label in labels) {
    if (!names.includes(label)) throw new Error(`Added label "${label}" is not included in initial labelset: ${format(names)}`);
  }
}

/** prom-client's getLabels: an object as it is, or positional values in labelNames order. */
export function labelsOf(names: readonly string[], args: readonly unknown[]): Labels {
  if (typeof args[0] === 'object') return args[0] as Labels;
  if (names.length !== args.length) {
    throw new Error(`Invalid number of arguments (${args.length}): "${args.join(', ')}" for label names (${names.length}): "${names.join(', ')}".`);
  }
  const labels: Labels = {};
  for (let i = 0; i < names.length; i++) labels[names[i]] = args[i] as string;
  return labels;
}

/**
 * The series of one metric by label values: nested Maps, one level per label (the last
 * level holds the series), in front of a map by prom-client hash. The hash map is the
 * truth: values that differ only in type (1 and '1') are one series, and a miss in the
 * nested Maps falls back to it.
 */
export class SeriesIndex<S> {
  private tree = new Map<unknown, unknown>();
  private readonly byHash = new Map<string, S>();
  private readonly depth: number;

  constructor(depth: number) {
    if (depth > MAX_LABELS) throw new Error(`series() supports up to ${MAX_LABELS} labels, not ${depth}`);
    this.depth = depth;
  }

  /** The series at these values in the nested Maps; undefined when not there yet. */
  find(a: unknown, b: unknown, c: unknown, d: unknown): S | undefined {
    const depth = this.depth;
    let x = this.tree.get(depth === 0 ? '' : a);
    if (depth <= 1 || x === undefined) return x as S | undefined;
    x = (x as Map<unknown, unknown>).get(b);
    if (depth === 2 || x === undefined) return x as S | undefined;
    x = (x as Map<unknown, unknown>).get(c);
    if (depth === 3 || x === undefined) return x as S | undefined;
    return (x as Map<unknown, unknown>).get(d) as S | undefined;
  }

  /** Files `series` under these values in the nested Maps. */
  place(series: S, a: unknown, b: unknown, c: unknown, d: unknown): void {
    const depth = this.depth;
    if (depth === 0) {
      this.tree.set('', series);
      return;
    }
    let node = this.tree;
    const values = [a, b, c, d];
    for (let i = 0; i < depth - 1; i++) {
      let next = node.get(values[i]) as Map<unknown, unknown> | undefined;
      if (next === undefined) node.set(values[i], (next = new Map()));
      node = next;
    }
    node.set(values[depth - 1], series);
  }

  byHashGet(hash: string): S | undefined {
    return this.byHash.get(hash);
  }

  byHashSet(hash: string, series: S): void {
    this.byHash.set(hash, series);
  }

  /** Forgets the series of `hash` (the nested Maps are dropped: they refill on use). */
  delete(hash: string): S | undefined {
    const s = this.byHash.get(hash);
    this.byHash.delete(hash);
    this.tree = new Map();
    return s;
  }

  clear(): S[] {
    const all = [...this.byHash.values()];
    this.byHash.clear();
    this.tree = new Map();
    return all;
  }

  values(): IterableIterator<S> {
    return this.byHash.values();
  }
}

/** A series that can be told its metric dropped it (remove(), reset()): handles kept to it then stop writing to it. */
export interface Detachable {
  detach(): void;
}

/**
 * The series of one metric, kept where prom-client reads them: found by label values
 * (series()) or a labels object, made by `make` on first use (from the entry prom-client
 * already made for those labels, if any) and filed in prom-client's hashMap as its entry.
 */
export class SeriesTable<S extends Detachable, E> {
  private readonly index: SeriesIndex<S>;
  private readonly m: Internals<S | E>;
  private readonly make: (labels: Labels, entry: E | undefined) => S;

  constructor(m: Internals<S | E>, make: (labels: Labels, entry: E | undefined) => S) {
    this.m = m;
    this.make = make;
    this.index = new SeriesIndex(m.labelNames.length);
  }

  /** The series of these label values, in labelNames order. */
  series(a?: string, b?: string, c?: string, d?: string): S {
    const found = this.index.find(a, b, c, d);
    if (found !== undefined) return found;
    const s = this.ofLabels(labelsFromValues(this.m.labelNames, a, b, c, d));
    this.index.place(s, a, b, c, d);
    return s;
  }

  /** The series of a labels object, found or created by its prom-client hash. */
  ofLabels(labels: Labels): S {
    const m = this.m;
    const hash = hashOf(m.sortedLabelNames, labels);
    let s = this.index.byHashGet(hash);
    if (s === undefined) {
      s = this.make(labels, m.hashMap[hash] as E | undefined);
      m.hashMap[hash] = s;
      this.index.byHashSet(hash, s);
    }
    return s;
  }

  /** prom-client's remove(...labels). */
  remove(args: readonly unknown[]): void {
    const m = this.m;
    const labels = labelsOf(m.labelNames, args);
    validateLabels(m.labelNames, labels);
    const hash = hashOf(m.sortedLabelNames, labels);
    this.index.delete(hash)?.detach();
    delete m.hashMap[hash];
  }

  /** After prom-client's reset(): every series is gone. */
  clear(): void {
    for (const s of this.index.clear()) s.detach();
  }

  values(): IterableIterator<S> {
    return this.index.values();
  }
}

/** Label values of series(), in labelNames order, as a labels object (for the entry) with every value given. */
export function labelsFromValues(names: readonly string[], a: unknown, b: unknown, c: unknown, d: unknown): Labels {
  const values = [a, b, c, d];
  const labels: Labels = {};
  for (let i = 0; i < names.length; i++) {
    if (values[i] === undefined) throw new Error(`series() needs a value for each label (${names.join(', ')}); label ${names[i]} has none`);
    labels[names[i]] = values[i] as string;
  }
  for (let i = names.length; i < MAX_LABELS; i++) {
    if (values[i] !== undefined) throw new Error(`series() got ${i + 1} label values for label names (${names.length}): "${names.join(', ')}"`);
  }
  return labels;
}
