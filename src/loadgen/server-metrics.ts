/**
 * Server-side numbers for switchyard targets, read from its Prometheus /metrics before and
 * after each measured step: how requests were batched (the `switchyard_batch_size`
 * histogram's buckets, `switchyard_batches_total` by reason) and where their time went
 * (`switchyard_queue_duration_seconds` per request, `switchyard_compute_duration_seconds`
 * per batch). Other servers (no `switchyard_` series) get no server stats.
 */
import { request } from 'undici';

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (comments skipped, timestamps ignored). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) for (const l of m[2].matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]) });
  }
  return out;
}

/** Cumulative counters of one model (one version, or all) at one moment. */
export interface ServerSnapshot {
  /** switchyard_batch_size buckets: upper bound ("1", "2", … "+Inf") → cumulative count */
  readonly batchBuckets: Map<string, number>;
  batchSum: number;
  batchCount: number;
  queueSum: number;
  queueCount: number;
  computeSum: number;
  computeCount: number;
  readonly reasons: Map<string, number>;
}

/** What the server did during one step. */
export interface ServerStats {
  readonly batches: number;
  /** rows per batch; null when no batch ran */
  readonly meanBatchSize: number | null;
  /** batches per size bucket of the histogram: sizes min..max (max null: no upper bound); empty buckets left out */
  readonly batchSizes: readonly { readonly min: number; readonly max: number | null; readonly batches: number }[];
  /** batches dispatched by why (full, preferred, delay, instance_free) */
  readonly reasons: Readonly<Record<string, number>>;
  /** mean time a request waited in the queue, ms */
  readonly queueMs: number | null;
  /** mean time a batch ran on an instance, ms */
  readonly computeMs: number | null;
}

/** Sums one model's series (of `version` only when given); null when there are no switchyard_ series. */
export function snapshot(samples: readonly Sample[], model: string, version: string | null): ServerSnapshot | null {
  const snap: ServerSnapshot = { batchBuckets: new Map(), batchSum: 0, batchCount: 0, queueSum: 0, queueCount: 0, computeSum: 0, computeCount: 0, reasons: new Map() };
  let switchyard = false;
  for (const s of samples) {
    if (!s.name.startsWith('switchyard_')) continue;
    switchyard = true;
    if (s.labels.model !== model || (version !== null && s.labels.version !== version)) continue;
    switch (s.name) {
      case 'switchyard_batch_size_bucket':
        snap.batchBuckets.set(s.labels.le ?? '+Inf', (snap.batchBuckets.get(s.labels.le ?? '+Inf') ?? 0) + s.value);
        break;
      case 'switchyard_batch_size_sum':
        snap.batchSum += s.value;
        break;
      case 'switchyard_batch_size_count':
        snap.batchCount += s.value;
        break;
      case 'switchyard_queue_duration_seconds_sum':
        snap.queueSum += s.value;
        break;
      case 'switchyard_queue_duration_seconds_count':
        snap.queueCount += s.value;
        break;
      case 'switchyard_compute_duration_seconds_sum':
        snap.computeSum += s.value;
        break;
      case 'switchyard_compute_duration_seconds_count':
        snap.computeCount += s.value;
        break;
      case 'switchyard_batches_total': {
        const r = s.labels.reason ?? 'unknown';
        snap.reasons.set(r, (snap.reasons.get(r) ?? 0) + s.value);
        break;
      }
    }
  }
  return switchyard ? snap : null;
}

const bound = (le: string): number => (le === '+Inf' ? Infinity : Number(le));

/** The differences between two snapshots. */
export function serverWindow(before: ServerSnapshot, after: ServerSnapshot): ServerStats {
  const batches = after.batchCount - before.batchCount;
  const les = [...after.batchBuckets.keys()].sort((a, b) => bound(a) - bound(b));
  const batchSizes: { min: number; max: number | null; batches: number }[] = [];
  let below = 0;
  let lower = 0;
  for (const le of les) {
    const cumulative = (after.batchBuckets.get(le) ?? 0) - (before.batchBuckets.get(le) ?? 0);
    const n = cumulative - below;
    below = cumulative;
    // batch sizes are whole numbers: the bucket (lower, le] holds floor(lower)+1 .. floor(le)
    const upper = bound(le);
    if (n > 0) batchSizes.push({ min: Math.floor(lower) + 1, max: Number.isFinite(upper) ? Math.floor(upper) : null, batches: n });
    lower = upper;
  }
  const reasons: Record<string, number> = {};
  for (const [r, n] of after.reasons) {
    const d = n - (before.reasons.get(r) ?? 0);
    if (d > 0) reasons[r] = d;
  }
  const queued = after.queueCount - before.queueCount;
  const computed = after.computeCount - before.computeCount;
  return {
    batches,
    meanBatchSize: batches > 0 ? (after.batchSum - before.batchSum) / batches : null,
    batchSizes,
    reasons,
    queueMs: queued > 0 ? ((after.queueSum - before.queueSum) / queued) * 1000 : null,
    computeMs: computed > 0 ? ((after.computeSum - before.computeSum) / computed) * 1000 : null,
  };
}

/** GET {url}/metrics and snapshot `model`; null when unreachable or not switchyard. */
export async function scrapeServer(baseUrl: string, model: string, version: string | null): Promise<ServerSnapshot | null> {
  try {
    const res = await request(`${baseUrl}/metrics`, { method: 'GET', headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await res.body.text();
    return res.statusCode === 200 ? snapshot(parsePrometheus(text), model, version) : null;
  } catch {
    return null;
  }
}
