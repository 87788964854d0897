/**
 * The analysis window of one canary step: per side (baseline, candidate) the request and
 * error counts, a fixed-bucket latency histogram of the successful requests (for p99) and
 * the feedback rewards (count, sum, sum of squares). It lives in a CounterHash so that
 * replicas add up their windows in the store.
 *
 * Latency buckets are log-spaced, 8 per doubling from 10 µs (each ~9% wide) up to ~335 s;
 * p99 interpolates inside its bucket, so a ratio of two p99s is good to a few percent.
 */
import { CounterHash } from '../counters.js';
import type { CanaryState } from './state.js';

export type Side = 'baseline' | 'candidate';
const SIDE_PREFIX: Readonly<Record<Side, string>> = { baseline: 'b|', candidate: 'c|' };

const BUCKETS = 200;
const PER_DOUBLING = 8;
const FIRST_US = 10;

const REQ = 0;
const ERR = 1;
const N = 2;
const SUM = 3;
// 4: sum of squared rewards (credited by the store; not read by the analysis)
const LAT = 5;
const PER_SIDE = LAT + BUCKETS;

function sideFields(prefix: string): string[] {
  const out = [`${prefix}req`, `${prefix}err`, `${prefix}n`, `${prefix}sum`, `${prefix}sumsq`];
  for (let i = 0; i < BUCKETS; i++) out.push(`${prefix}lat${i}`);
  return out;
}
const FIELDS = [...sideFields(SIDE_PREFIX.baseline), ...sideFields(SIDE_PREFIX.candidate)];

/** The store key of a canary run's window of one epoch. */
export function windowKey(route: string, state: CanaryState): string {
  return `win:${route}:${state.id}:${state.epoch}`;
}

/** The window of the state's step; `previous` (the route's window before an update) when it is the same one. */
export function stepWindow(route: string, state: CanaryState, previous: CounterHash | null = null): CounterHash {
  return CounterHash.successor(previous, windowKey(route, state), FIELDS);
}

/** The field prefix a side's rewards are credited under (`<prefix>n`, `<prefix>sum`, `<prefix>sumsq`). */
export function rewardPrefix(side: Side): string {
  return SIDE_PREFIX[side];
}

function bucketOf(latencyUs: number): number {
  if (!(latencyUs > FIRST_US)) return 0;
  const b = Math.floor(PER_DOUBLING * Math.log2(latencyUs / FIRST_US));
  return b >= BUCKETS ? BUCKETS - 1 : b;
}

/** Counts one request of `side` (hot path: index arithmetic only). */
export function recordInWindow(window: CounterHash, side: Side, ok: boolean, latencyUs: number): void {
  const base = side === 'baseline' ? 0 : PER_SIDE;
  window.add(base + REQ, 1);
  if (ok) window.add(base + LAT + bucketOf(latencyUs), 1);
  else window.add(base + ERR, 1);
}

/** What the analysis reads of one side. */
export interface SideStats {
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number;
  /** null when no request succeeded */
  readonly p99Us: number | null;
  readonly rewards: number;
  /** null without rewards */
  readonly rewardMean: number | null;
}

export function sideStats(window: CounterHash, side: Side): SideStats {
  const base = side === 'baseline' ? 0 : PER_SIDE;
  const requests = window.value(base + REQ);
  const errors = window.value(base + ERR);
  const rewards = window.value(base + N);
  return {
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : 0,
    p99Us: percentile(window, base, 0.99),
    rewards,
    rewardMean: rewards > 0 ? window.value(base + SUM) / rewards : null,
  };
}

function percentile(window: CounterHash, base: number, q: number): number | null {
  let total = 0;
  for (let i = 0; i < BUCKETS; i++) total += window.value(base + LAT + i);
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    const c = window.value(base + LAT + i);
    if (c > 0 && seen + c >= rank) {
      const frac = (rank - seen) / c;
      return FIRST_US * Math.pow(2, (i + frac) / PER_DOUBLING);
    }
    seen += c;
  }
  return FIRST_US * Math.pow(2, BUCKETS / PER_DOUBLING);
}
