/**
 * A routing policy picks the target of one request: `pick(key)` → the index of the target
 * in its route's primary targets (canary: 0 baseline, 1 candidate). `key` is the value of
 * the route's sticky header, or null. Policies read their state (weights, canary step,
 * arm statistics) from objects the route owns; picking is synchronous and allocation-free.
 */
export interface Policy {
  pick(key: string | null): number;
}
