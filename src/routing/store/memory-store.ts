/**
 * The in-process route store (the default, one gateway). The router's mirror is the only
 * reader, so `load` returns what was written; feedback records expire after `feedbackTtlS`
 * and at most `maxRecords` are kept (the oldest are forgotten first).
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { ExpiringMap } from './expiring-map.js';
import type { AuditEntry, CreditRecord, CreditResult, RouteRecord, RouteStore, RouteWrite } from './store.js';

export interface MemoryRouteStoreOptions {
  readonly clock?: Clock;
  /** seconds a served request waits for its feedback (default 3600) */
  readonly feedbackTtlS?: number;
  /** requests remembered for feedback at most (default 100000) */
  readonly maxRecords?: number;
  /** audit entries kept (default 1000) */
  readonly maxAudit?: number;
}

export class MemoryRouteStore implements RouteStore {
  readonly shared = false;
  readonly countersInStore = false;
  private readonly routes = new Map<string, RouteRecord>();
  private readonly auditLog: AuditEntry[] = [];
  private readonly records: ExpiringMap<CreditRecord>;
  /** ids already credited → their route, to tell a duplicate from an unknown id */
  private readonly credited: ExpiringMap<string>;
  private readonly maxAudit: number;
  private revision = 0;

  constructor(opts: MemoryRouteStoreOptions = {}) {
    const clock = opts.clock ?? systemClock;
    const ttlMs = (opts.feedbackTtlS ?? 3600) * 1000;
    const max = opts.maxRecords ?? 100_000;
    this.records = new ExpiringMap(ttlMs, max, () => clock.now());
    this.credited = new ExpiringMap(ttlMs, max, () => clock.now());
    this.maxAudit = opts.maxAudit ?? 1000;
  }

  async load(): Promise<RouteRecord[]> {
    return [...this.routes.values()];
  }

  /** This process's memory is never lost on its own. */
  async wiped(): Promise<boolean> {
    return false;
  }

  async loadOne(name: string): Promise<RouteRecord | null> {
    return this.routes.get(name) ?? null;
  }

  async write(change: RouteWrite): Promise<number | null> {
    const current = this.routes.get(change.name)?.revision ?? 0;
    if (change.expectedRevision >= 0 && current !== change.expectedRevision) return null;
    const revision = ++this.revision;
    if (change.record === null) this.routes.delete(change.name);
    else this.routes.set(change.name, { ...change.record, revision });
    if (change.audit !== null) {
      this.auditLog.unshift(change.audit);
      if (this.auditLog.length > this.maxAudit) this.auditLog.length = this.maxAudit;
    }
    return revision;
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    return this.auditLog.slice(0, Math.max(0, limit));
  }

  remember(requestId: string, record: CreditRecord): void {
    this.records.set(requestId, record);
  }

  forget(requestId: string): void {
    this.records.delete(requestId);
  }

  async credit(requestId: string, reward: number): Promise<CreditResult> {
    const record = this.records.get(requestId);
    if (record === undefined) {
      const route = this.credited.get(requestId);
      return route === undefined ? { outcome: 'unknown' } : { outcome: 'duplicate', route };
    }
    if (record.reward === 'b' && reward !== 0 && reward !== 1) return { outcome: 'invalid', record };
    this.records.delete(requestId);
    this.credited.set(requestId, record.route);
    return { outcome: 'credited', record };
  }

  async syncCounters(): Promise<Record<string, string>> {
    throw new Error('the memory route store does not share counters');
  }

  async tryLock(): Promise<string | null> {
    return randomUUID();
  }

  async unlock(): Promise<void> {}

  watch(): void {}

  async close(): Promise<void> {}
}
