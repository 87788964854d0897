/**
 * Reads switchyard's Prometheus /metrics to say how the measured window was batched: the
 * mean batch size (difference of `switchyard_batch_size` _sum and _count before and after)
 * and how many batches each dispatch reason sent (`switchyard_batches_total{reason}`).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text exposition format (comments skipped, timestamps ignored). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) {
      for (const l of m[2].matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

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
