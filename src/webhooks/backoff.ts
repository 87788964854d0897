/**
 * When to try a failed delivery again: exponential backoff with "equal jitter" — before
 * retry n (1-based) the wait is drawn uniformly from [cap/2, cap], cap = min(max, initial *
 * 2^(n-1)) — so receivers that fail together are not hit again together, and each wait is
 * at least half the nominal one. A receiver's Retry-After (seconds or an HTTP date) is
 * honoured instead, capped at `max`.
 */

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The wait before retry `retry` (1 = the first retry); `random` returns [0, 1). */
export function backoffDelay(retry: number, o: BackoffOptions, random: () => number = Math.random): number {
  const cap = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(retry - 1, 52));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/**
 * A Retry-After header in ms from `nowMs` (delta seconds or an HTTP date), or null when it
 * is absent or unparsable. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return null;
  const text = v.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** The wait before retry `retry`: the receiver's Retry-After when it sent one (capped at maxMs), else backoffDelay. */
export function retryDelay(retry: number, retryAfterMs: number | null, o: BackoffOptions, random: () => number = Math.random): number {
  return retryAfterMs === null ? backoffDelay(retry, o, random) : Math.min(retryAfterMs, o.maxMs);
}
