/**
 * What every load generator of the bench returns, whichever drove the run: wrk (REST, see
 * wrk.ts), h2load (gRPC unary, see h2load.ts) or `switchyard bench`'s generators in this
 * process (gRPC stream, WebSocket, see drive.ts). One `measure` is a warm-up run whose numbers
 * are thrown away, a probe, the measured run, another probe.
 */

export interface LoadTarget {
  url: string;
  /** the request body, sent as is (JSON text or Triton's binary extension) */
  body: Buffer;
  headers: Record<string, string>;
}

export interface LoadSettings {
  connections: number;
  /** seconds */
  duration: number;
  /** seconds of warm-up before the measured run; 0 = none */
  warmup: number;
}

/**
 * Where the load generator's CPU went over the measured run, to tell a server-bound number
 * from a generator-bound one.
 */
export interface GeneratorCpu {
  /** e.g. "wrk -t2", "h2load -t1", "bench process (src/loadgen)" */
  name: string;
  /** threads that carry the load: wrk's and h2load's -t, 1 for the bench process's event loop */
  threads: number;
  /** CPU seconds of all its threads over the run; null without /proc */
  seconds: number | null;
  /** wall seconds the run took */
  wallSeconds: number;
  /** the busiest load thread's share of one core, sampled inside the run; null without /proc */
  busiestThread: number | null;
}

/** A measured run with what `probe` read just before and just after it. */
export interface Measured<T> {
  result: LoadResult;
  before: T | null;
  after: T | null;
  generator: GeneratorCpu | null;
}

/** The raw numbers of one measured run. */
export interface LoadResult {
  connections: number;
  /** seconds the run actually took */
  durationS: number;
  /** 2xx responses per second */
  reqPerSec: number;
  ok2xx: number;
  /** answers the server refused (HTTP ≥ 400, gRPC status ≠ OK where the generator sees it) */
  non2xx: number;
  /** connection and socket errors, timeouts included */
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statusCodes: Record<string, number>;
}

/** Nearest-rank percentile `p` (0–100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
