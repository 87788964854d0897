/**
 * A bounded map whose entries expire a fixed time after they are set. Entries are kept in
 * insertion order (a re-set moves the key to the end), which with one TTL for all is also
 * expiry order: expired entries are dropped from the front as new ones arrive, and when the
 * map is full the oldest entry goes.
 */
class Entry<V> {
  value: V;
  expiresAt: number;
  constructor(value: V, expiresAt: number) {
    this.value = value;
    this.expiresAt = expiresAt;
  }
}

export class ExpiringMap<V> {
  private readonly map = new Map<string, Entry<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  set(key: string, value: V): void {
    const now = this.now();
    this.map.delete(key);
    this.map.set(key, new Entry(value, now + this.ttlMs));
    this.evict(now);
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  private evict(now: number): void {
    for (const [key, e] of this.map) {
      if (e.expiresAt > now && this.map.size <= this.max) break;
      this.map.delete(key);
    }
  }
}
