/**
 * RouteStore: where routes and their state live. MemoryRouteStore keeps them in this
 * process; FileRouteStore keeps them in this process and in a state folder, across restarts;
 * RedisRouteStore shares them between gateway replicas.
 *
 * The router keeps a local mirror of every route and answers requests from it; the store is
 * never on the request path except for fire-and-forget writes (remember, counters). Who
 * owns what: a RouteRecord handed to `write` belongs to the store from then on (it is
 * serialised, never changed); records returned by `load` are the caller's.
 */
import type { CanaryState } from '../canary/state.js';
import type { RouteSpec } from '../spec.js';

/** One route as stored. */
export interface RouteRecord {
  readonly name: string;
  readonly spec: RouteSpec;
  /** canary routes: the state machine; others null */
  readonly canary: CanaryState | null;
  /** JSON of the config file's spec this route was created from, or null (made through the admin API) */
  readonly seed: string | null;
  /** ms since the epoch */
  readonly updatedAt: number;
  /** assigned by the store on each write, increasing across all routes */
  readonly revision: number;
}

/** One entry of the audit log. */
export interface AuditEntry {
  /** ISO time */
  readonly at: string;
  readonly actor: string;
  readonly route: string;
  /** create | replace | patch | delete | pause | resume | promote | rollback | canary:advance | canary:promote | canary:rollback | config */
  readonly action: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** A change of one route. */
export interface RouteWrite {
  readonly name: string;
  /** the revision the change was computed from: 0 = the route must not exist, -1 = whatever is there */
  readonly expectedRevision: number;
  /** the new record (its revision is ignored), or null to delete the route */
  readonly record: Omit<RouteRecord, 'revision'> | null;
  readonly audit: AuditEntry | null;
  /** counter hashes to delete with the change (a deleted route's statistics) */
  readonly dropCounters: readonly string[];
}

/**
 * What a request served by a bandit or canary route is remembered as, for its feedback:
 * the counter hash and field prefix its reward is credited to (`<prefix>n`, `<prefix>sum`,
 * `<prefix>sumsq`), and the kind of reward accepted.
 */
export interface CreditRecord {
  readonly route: string;
  readonly hash: string;
  readonly prefix: string;
  /** 'b': bernoulli (0 or 1), 'g': any finite number */
  readonly reward: 'b' | 'g';
}

export type CreditResult =
  | { readonly outcome: 'credited'; readonly record: CreditRecord }
  | { readonly outcome: 'invalid'; readonly record: CreditRecord }
  | { readonly outcome: 'duplicate'; readonly route: string }
  | { readonly outcome: 'unknown' };

export interface StoreListener {
  /**
   * A route changed on some replica (null: anything may have changed, reload everything).
   * Resolves true once the change was read, false when reading it failed (never rejects):
   * a poller then tries again rather than take the change as seen.
   */
  changed(name: string | null): Promise<boolean>;
}

export interface RouteStore {
  /** true when other replicas share the store (the router then syncs counters with it) */
  readonly shared: boolean;
  /**
   * true when the router syncs its counter hashes with the store (syncCounters every
   * syncIntervalMs and on close): a shared store sums them over replicas, the file store
   * keeps them across restarts. false: the counters live in the router only.
   */
  readonly countersInStore: boolean;
  load(): Promise<RouteRecord[]>;
  /**
   * Whether the store has lost its state: it holds no revision counter although routes were
   * written to it (a Redis restarted without its data). Deleting every route is not that: the
   * counter stays. A replica that finds it true publishes the routes it holds again.
   */
  wiped(): Promise<boolean>;
  loadOne(name: string): Promise<RouteRecord | null>;
  /** Applies a change atomically with its audit entry; the new revision, or null when the route's revision was not `expectedRevision`. */
  write(change: RouteWrite): Promise<number | null>;
  /** The latest audit entries, newest first. */
  audit(limit: number): Promise<AuditEntry[]>;
  /** Remembers a request for its feedback (fire and forget, expires after the store's TTL). */
  remember(requestId: string, record: CreditRecord): void;
  /** Forgets a request (it failed: there is nothing to credit). */
  forget(requestId: string): void;
  /**
   * Credits `reward` once: atomically takes the request's record, checks the reward kind,
   * adds the reward to the record's counters (countersInStore) and marks the id as credited.
   */
  credit(requestId: string, reward: number): Promise<CreditResult>;
  /** Adds `deltas` to the store's counter hash and returns the hash (stores with countersInStore only). */
  syncCounters(key: string, deltas: readonly [string, number][], ttlS: number | null): Promise<Record<string, string>>;
  /** Takes a lock for `ttlMs`; a token to unlock with, or null when another holder has it. */
  tryLock(name: string, ttlMs: number): Promise<string | null>;
  unlock(name: string, token: string): Promise<void>;
  /** Tells `listener` of changes made by other replicas. */
  watch(listener: StoreListener): void;
  close(): Promise<void>;
}
