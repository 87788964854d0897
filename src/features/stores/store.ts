import type { FeatureRow } from '../row.js';
import type { FeatureView } from '../view.js';

/**
 * Where feature rows come from. Two implementations: in-memory (rows loaded from files at
 * startup) and Redis. Ownership: `ids` stays the caller's and is not kept; the returned
 * array is handed to the caller, the rows in it are shared and immutable.
 */
export interface FeatureStore {
  readonly kind: 'memory' | 'redis';
  /** true for a store over the network: a local cache sits in front of it and reads have a timeout */
  readonly remote: boolean;
  /**
   * One row per id, in order (a missing entity gets the view's missing-entity row). A
   * local store answers at once; a remote one returns a promise that may reject (the
   * caller then uses defaults).
   */
  read(view: FeatureView, ids: readonly string[]): FeatureRow[] | Promise<FeatureRow[]>;
  close(): Promise<void>;
}
