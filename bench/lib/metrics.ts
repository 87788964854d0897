/**
 * Reads switchyard's Prometheus /metrics to say how the measured window was batched: the
 * mean batch size (difference of `switchyard_batch_size` _sum and _count before and after)
 * and how many batches each dispatch reason sent (`switchyard_batches_total{reason}`).
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

/** Fetches and snapshots a server's /metrics for one model. */
export async function scrapeBatches(baseUrl: string, model: string): Promise<BatchSnapshot> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}`);
  return batchSnapshot(parsePrometheus(await res.text()), model);
}
