/**
 * CounterHash: a fixed set of named numeric counters (request counts of a route, the
 * statistics of a bandit's arms, a canary step's window), shared by replicas through the
 * route store.
 *
 * The hot path adds to `pending` by index (no allocation, no I/O). A value is
 * `base + pending`: in memory `base` only moves by credited rewards; with a shared store the
 * router periodically hands `pending` to the store (which adds it to the shared hash and
 * reads the hash back into `base`), so every replica sees the sum of all of them.
 * Field names are stable across replicas and route updates (`tabular:1|pulls`), the index
 * of a field only within this object.
 */
export class CounterHash {
  /** the store's name of the hash (without the store's key prefix) */
  readonly key: string;
  readonly fields: readonly string[];
  private readonly index: ReadonlyMap<string, number>;
  private readonly base: Float64Array;
  private readonly pending: Float64Array;

  constructor(key: string, fields: readonly string[]) {
    this.key = key;
    this.fields = Object.freeze([...fields]);
    this.index = new Map(fields.map((f, i) => [f, i]));
    this.base = new Float64Array(fields.length);
    this.pending = new Float64Array(fields.length);
  }

  /**
   * The hash for `key` with `fields` that follows `previous` (a route's hash after an update):
   * `previous` itself when nothing changed (requests in flight keep counting into it), else a
   * new hash holding the values of the fields both have (same key only).
   */
  static successor(previous: CounterHash | null, key: string, fields: readonly string[]): CounterHash {
    if (previous !== null && previous.key === key && previous.fields.length === fields.length && previous.fields.every((f, i) => f === fields[i])) {
      return previous;
    }
    const next = new CounterHash(key, fields);
    if (previous !== null && previous.key === key) next.carryFrom(previous);
    return next;
  }

  value(i: number): number {
    return this.base[i] + this.pending[i];
  }

  add(i: number, delta: number): void {
    this.pending[i] += delta;
  }

  indexOf(field: string): number {
    return this.index.get(field) ?? -1;
  }

  /** Adds to the shared part (a reward the store has already added to the shared hash). */
  addShared(field: string, delta: number): void {
    const i = this.index.get(field);
    if (i !== undefined) this.base[i] += delta;
  }

  /** The pending deltas as [field, delta] pairs (zeros left out), and pending reset. */
  takePending(): [string, number][] {
    const out: [string, number][] = [];
    for (let i = 0; i < this.pending.length; i++) {
      if (this.pending[i] !== 0) {
        out.push([this.fields[i], this.pending[i]]);
        this.pending[i] = 0;
      }
    }
    return out;
  }

  /** Puts back deltas that could not be written. */
  restorePending(deltas: readonly [string, number][]): void {
    for (const [field, delta] of deltas) {
      const i = this.index.get(field);
      if (i !== undefined) this.pending[i] += delta;
    }
  }

  /** Replaces the shared part with the shared hash as read from the store (absent fields = 0). */
  setShared(values: Readonly<Record<string, string | number>>): void {
    this.base.fill(0);
    for (const [field, raw] of Object.entries(values)) {
      const i = this.index.get(field);
      const v = Number(raw);
      if (i !== undefined && Number.isFinite(v)) this.base[i] = v;
    }
  }

  /** Takes over the values of the fields both hashes have (a route's new layout after an update). */
  carryFrom(old: CounterHash): void {
    for (let j = 0; j < old.fields.length; j++) {
      const i = this.index.get(old.fields[j]);
      if (i === undefined) continue;
      this.base[i] = old.base[j];
      this.pending[i] = old.pending[j];
    }
  }

  /** field → value, for views and tests. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.fields.length; i++) out[this.fields[i]] = this.value(i);
    return out;
  }
}
