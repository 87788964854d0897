/**
 * The columns the text table and the markdown report share: one row per step.
 */
import { CLIENT_LIMIT_UTILISATION, type BenchReport, type RunResult, type StepResult } from '../results.js';

/** ms with 3 significant digits ("0.412", "12.3", "1520"); "-" for none. */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export function fmtRate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

/** "3 (http 503: 2, timeout: 1)" or "0". */
export function fmtErrors(step: StepResult): string {
  if (step.failures === 0) return '0';
  const kinds = Object.entries(step.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}: ${n}`);
  return `${step.failures} (${kinds.join(', ')})`;
}

/** "1: 12, 3-4: 30, 33-64: 2" (batch sizes: batches) from the batch size buckets. */
export function fmtBatchSizes(step: StepResult): string {
  const s = step.server;
  if (s === null || s.batchSizes.length === 0) return '-';
  return s.batchSizes.map((b) => `${b.max === null ? `>${b.min - 1}` : b.min === b.max ? b.min : `${b.min}-${b.max}`}: ${b.batches}`).join(', ');
}

export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** The step table of one run. */
export function stepTable(report: BenchReport, run: RunResult): Table {
  const open = report.options.plan.mode === 'rate';
  const server = report.target.switchyard;
  const headers = ['step', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'mean ms', ...(open ? ['late p99 ms'] : []), 'errors', ...(server ? ['batch', 'queue ms', 'compute ms'] : []), 'client µs/req', 'client loop'];
  const rows = run.steps.map((s) => {
    const l = s.latencyMs;
    return [
      s.label,
      fmtRate(s.reqPerSec),
      fmtMs(l?.p50),
      fmtMs(l?.p90),
      fmtMs(l?.p99),
      fmtMs(l?.p999),
      fmtMs(l?.max),
      fmtMs(l?.mean),
      ...(open ? [fmtMs(s.latenessMs?.p99)] : []),
      fmtErrors(s),
      ...(server ? [s.server?.meanBatchSize == null ? '-' : s.server.meanBatchSize.toFixed(1), fmtMs(s.server?.queueMs), fmtMs(s.server?.computeMs)] : []),
      s.client.cpuUsPerRequest.toFixed(1),
      `${Math.round(s.client.eventLoop * 100)}%${s.client.limited ? ' ⚠' : ''}`,
    ];
  });
  return { headers, rows };
}

/** "max_queue_delay_us=500" or "" */
export function runTitle(run: RunResult): string {
  return run.sweep === null ? '' : `${run.sweep.key}=${run.sweep.value}`;
}

/** One line describing what was measured. */
export function headline(report: BenchReport): string {
  const o = report.options;
  const loop = o.plan.mode === 'concurrency' ? 'closed loop' : 'open loop';
  const server = report.target.server === null ? 'a KServe v2 server' : `${report.target.server.name} ${report.target.server.version}`;
  const where = o.sweep === null ? (o.protocol.startsWith('grpc') ? `grpc://${o.grpcAddress}` : o.url) : `a local gateway (${o.sweep.config}) per ${o.sweep.key} value`;
  const inputs = report.target.inputs.map((i) => `${i.name} ${i.datatype}[${i.shape.join(',')}]`).join(', ');
  return `model ${report.target.model.name}${o.modelVersion === null ? '' : ` v${o.modelVersion}`} over ${o.protocol}, ${loop}, ${o.durationMs / 1000} s per step (warm-up ${o.warmupMs / 1000} s), ${server} at ${where}; inputs ${inputs}`;
}

/**
 * The warning for steps whose generator was the limit, or null: their req/s measures this
 * process, not the server.
 */
export function clientLimitNote(run: RunResult): string | null {
  const limited = run.steps.filter((s) => s.client.limited);
  if (limited.length === 0) return null;
  return (
    `⚠ ${limited.map((s) => s.label).join(', ')}: this client's event loop was busy ≥ ${Math.round(CLIENT_LIMIT_UTILISATION * 100)}% of the window, ` +
    'so the client, not the server, set the pace; split the load over several `switchyard bench` processes, or drive it with wrk, h2load or perf_analyzer'
  );
}
