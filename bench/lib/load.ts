/**
 * The load generator: autocannon's programmatic API, in the bench process (the servers run
 * in child processes). One `measure()` is a warm-up run whose numbers are thrown away, then
 * the measured run.
 *
 * Latency comes from autocannon's per-response times (fractional ms), recorded here in a
 * microsecond histogram: autocannon's own latency histogram keeps whole milliseconds, which
 * reads 0 ms for every percentile at concurrency 1 on a fast server. As in autocannon, only
 * 2xx responses count in latency and in req/s.
 */
import autocannon from 'autocannon';
import { createHistogram } from 'node:perf_hooks';

export interface LoadTarget {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface LoadSettings {
  connections: number;
  /** seconds */
  duration: number;
  /** seconds of warm-up before the measured run; 0 = none */
  warmup: number;
}

/** A measured run with what `probe` read just before and just after it. */
export interface Measured<T> {
  result: LoadResult;
  before: T | null;
  after: T | null;
}

/** The raw numbers of one measured run. */
export interface LoadResult {
  connections: number;
  /** seconds the run actually took */
  durationS: number;
  /** 2xx responses per second */
  reqPerSec: number;
  ok2xx: number;
  non2xx: number;
  /** connection errors, timeouts included */
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statusCodes: Record<string, number>;
}

function fire(target: LoadTarget, connections: number, duration: number, onLatency: ((ms: number) => void) | null): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: 'POST',
        body: target.body,
        headers: target.headers,
        connections,
        pipelining: 1,
        duration,
        timeout: 10,
      },
      (err: unknown, result: autocannon.Result) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(result);
      },
    );
    if (onLatency !== null) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) onLatency(responseTime);
      });
    }
  });
}

/**
 * Warm-up, then one measured run at `connections` concurrent connections (one request in
 * flight each). `probe` (e.g. a /metrics scrape) runs after the warm-up and after the run.
 */
export async function measure<T>(target: LoadTarget, settings: LoadSettings, probe: (() => Promise<T>) | null): Promise<Measured<T>> {
  if (settings.warmup > 0) await fire(target, settings.connections, settings.warmup, null);
  const before = probe === null ? null : await probe();
  const hist = createHistogram();
  const record = (ms: number): void => hist.record(Math.max(1, Math.round(ms * 1000)));
  const r = await fire(target, settings.connections, settings.duration, record);
  const after = probe === null ? null : await probe();
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const us = (p: number): number => (hist.count === 0 ? NaN : hist.percentile(p) / 1000);
  const result: LoadResult = {
    connections: settings.connections,
    durationS: r.duration,
    reqPerSec: r.duration > 0 ? r['2xx'] / r.duration : 0,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyMs: {
      p50: us(50),
      p90: us(90),
      p99: us(99),
      max: hist.count === 0 ? NaN : hist.max / 1000,
      mean: hist.count === 0 ? NaN : hist.mean / 1000,
    },
    statusCodes,
  };
  return { result, before, after };
}
