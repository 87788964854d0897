/**
 * The numbers of one measured phase: latencies of successful requests in an HDR histogram
 * (microseconds, 3 significant digits), how late the open loop sent (same unit), and the
 * failures counted by kind with one sample message each.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

const MAX_KINDS = 50;

export class Recorder {
  readonly latency: RecordableHistogram = createHistogram();
  /** open loop: actual send time − intended send time */
  readonly lateness: RecordableHistogram = createHistogram();
  /** requests sent (closed loop) or due (open loop) in the window */
  requests = 0;
  successes = 0;
  /** successes answered before the window closed: what req/s counts */
  successesInWindow = 0;
  failures = 0;
  readonly errors = new Map<string, number>();
  readonly samples = new Map<string, string>();

  success(latencyMs: number, inWindow: boolean): void {
    this.successes++;
    if (inWindow) this.successesInWindow++;
    this.latency.record(Math.max(1, Math.round(latencyMs * 1000)));
  }

  failure(kind: string, detail: string | null, count = 1): void {
    this.failures += count;
    // kinds come from status codes and error codes; a server inventing many is capped
    const k = this.errors.has(kind) || this.errors.size < MAX_KINDS ? kind : 'other';
    this.errors.set(k, (this.errors.get(k) ?? 0) + count);
    if (detail !== null && !this.samples.has(k)) this.samples.set(k, detail.slice(0, 300));
  }

  late(ms: number): void {
    this.lateness.record(Math.max(1, Math.round(ms * 1000)));
  }

  /** Latency percentile in ms; NaN when nothing succeeded. */
  percentileMs(p: number): number {
    return this.latency.count === 0 ? NaN : this.latency.percentile(p) / 1000;
  }
}
