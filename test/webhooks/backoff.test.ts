import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, retryDelay } from '../../src/webhooks/index.js';

const O = { initialMs: 500, maxMs: 60_000 };

describe('webhook retry backoff', () => {
  it('doubles per retry from retry_initial_ms, each wait in [cap/2, cap], capped at retry_max_ms', () => {
    const low = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffDelay(n, O, () => 0));
    const high = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffDelay(n, O, () => 1 - 1e-12));
    expect(high).toEqual([500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    expect(low).toEqual(high.map((h) => h / 2));
    // a large retry count does not overflow
    expect(backoffDelay(10_000, O, () => 0.5)).toBe(45_000);
  });

  it('spreads the waits (jitter) over the range', () => {
    let s = 1;
    const random = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    const waits = Array.from({ length: 1000 }, () => backoffDelay(3, O, random));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(2000);
    expect(new Set(waits).size).toBeGreaterThan(500);
    const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
    expect(mean).toBeGreaterThan(1450);
    expect(mean).toBeLessThan(1550);
  });

  it('honours Retry-After (seconds or an HTTP date), capped at retry_max_ms', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(retryDelay(1, 7000, O)).toBe(7000);
    expect(retryDelay(1, 3_600_000, O)).toBe(60_000);
    expect(retryDelay(2, null, O, () => 0)).toBe(500);
  });
});
