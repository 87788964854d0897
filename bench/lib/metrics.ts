/**
 * Reads switchyard's Prometheus /metrics to say how the measured window was batched: the
 * mean batch size (difference of `switchyard_batch_size` _sum and _count before and after)
 * and how many batches each dispatch reason sent (`switchyard_batches_total{reason}`); and
 * how the server itself counted the window's requests (`switchyard_requests_total{protocol,
 * status}`), which is where a gRPC error h2load cannot see (HTTP 200, grpc-status ≠ 0) shows.
 */
import { parsePrometheus, type Sample } from '../../src/loadgen/server-metrics.js';

export interface BatchSnapshot {
  sizeSum: number;
  sizeCount: number;
  /** batches dispatched, by reason */
  reasons: Record<string, number>;
}

/** Sums the batching series of one model (all its versions). */
export function batchSnapshot(samples: readonly Sample[], model: string): BatchSnapshot {
  const snap: BatchSnapshot = { sizeSum: 0, sizeCount: 0, reasons: {} };
  for (const s of samples) {
    if (s.labels.model !== model) continue;
    if (s.name === 'switchyard_batch_size_sum') snap.sizeSum += s.value;
    else if (s.name === 'switchyard_batch_size_count') snap.sizeCount += s.value;
    else if (s.name === 'switchyard_batches_total') {
      const reason = s.labels.reason ?? 'unknown';
      snap.reasons[reason] = (snap.reasons[reason] ?? 0) + s.value;
    }
  }
  return snap;
}

export interface BatchWindow {
  batches: number;
  /** rows per batch over the window; null when no batch was recorded */
  meanBatchSize: number | null;
  /** batches dispatched in the window, by reason (reasons with 0 left out) */
  reasons: Record<string, number>;
}

/** What happened between two snapshots. */
export function batchWindow(before: BatchSnapshot, after: BatchSnapshot): BatchWindow {
  const batches = after.sizeCount - before.sizeCount;
  const reasons: Record<string, number> = {};
  for (const [reason, n] of Object.entries(after.reasons)) {
    const d = n - (before.reasons[reason] ?? 0);
    if (d > 0) reasons[reason] = d;
  }
  return { batches, meanBatchSize: batches > 0 ? (after.sizeSum - before.sizeSum) / batches : null, reasons };
}

/** Requests the server has finished over one door (every model), by outcome. */
export interface OutcomeSnapshot {
  success: number;
  /** by error status (e.g. SY_ERR_QUEUE_FULL) */
  failed: Record<string, number>;
}

/** `switchyard_requests_total` of `protocol` ('rest', 'grpc', 'ws'), summed over models. */
export function outcomeSnapshot(samples: readonly Sample[], protocol: string): OutcomeSnapshot {
  const snap: OutcomeSnapshot = { success: 0, failed: {} };
  for (const s of samples) {
    if (s.name !== 'switchyard_requests_total' || s.labels.protocol !== protocol) continue;
    const status = s.labels.status ?? 'unknown';
    if (status === 'success') snap.success += s.value;
    else snap.failed[status] = (snap.failed[status] ?? 0) + s.value;
  }
  return snap;
}

/** Failed requests between two snapshots, by status (statuses with 0 left out). */
export function failedInWindow(before: OutcomeSnapshot, after: OutcomeSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [status, n] of Object.entries(after.failed)) {
    const d = n - (before.failed[status] ?? 0);
    if (d > 0) out[status] = d;
  }
  return out;
}

/** Fetches a server's /metrics: the batching of one model and the outcomes over one door. */
export async function scrapeServer(baseUrl: string, model: string, protocol: string): Promise<{ batches: BatchSnapshot; outcomes: OutcomeSnapshot }> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}`);
  const samples = parsePrometheus(await res.text());
  return { batches: batchSnapshot(samples, model), outcomes: outcomeSnapshot(samples, protocol) };
}
