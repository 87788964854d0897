/**
 * Bench results: their shape (what bench/results/<date>.json holds), the medians and ratios
 * computed from the raw runs, and the text forms (console table, README markdown).
 */
import type { LoadResult } from './load.js';
import type { Machine } from './machine.js';
import { machineLine } from './machine.js';
import type { BatchWindow } from './metrics.js';
import type { BenchOptions } from './options.js';
import { median, ratio, sum } from './stats.js';

export interface RunRecord extends LoadResult {
  /** 1-based round this run belongs to */
  round: number;
  /** batching over the measured window; null for servers without switchyard's metrics */
  batching: BatchWindow | null;
  /** Redis HMGET calls (feature reads) per request over the run (features cases), else null */
  redisCommandsPerRequest: number | null;
}

export interface CellSummary {
  caseId: string;
  connections: number;
  runs: RunRecord[];
  median: { reqPerSec: number; p50Ms: number; p99Ms: number; meanBatchSize: number | null; redisCommandsPerRequest: number | null };
  /** over all measured runs */
  totals: { ok2xx: number; errors: number; timeouts: number; non2xx: number; batches: number; reasons: Record<string, number> };
}

export interface CaseInfo {
  id: string;
  title: string;
  description: string;
  /** the case whose req/s this one is compared with (same door, no gateway), or null */
  ceiling: string | null;
  /** facts the server reported at startup (e.g. uws: native), from its first start */
  facts: Record<string, string>;
}

export interface RatioRow {
  connections: number;
  /** batching-on req/s ÷ ceiling req/s */
  batchingVsCeiling: number;
  /** batching-on req/s ÷ batching-off req/s */
  batchingOnVsOff: number;
}

/** A case's req/s as a fraction of its ceiling's, at one concurrency. */
export interface CeilingRatio {
  caseId: string;
  ceilingId: string;
  connections: number;
  ratio: number;
}

/** Two cases side by side: `with` is the case with a feature on, `without` the same with it off. */
export interface Comparison {
  title: string;
  with: string;
  without: string;
  /** the least `with ÷ without` req/s at concurrency 256 the feature should keep, if any */
  aim?: number;
  /** also aim for `with`'s p99 below `without`'s at concurrency 256 */
  aimLowerP99?: boolean;
}

export interface ComparisonRow {
  title: string;
  connections: number;
  withReqPerSec: number;
  withoutReqPerSec: number;
  /** with ÷ without req/s */
  ratio: number;
  withP50Ms: number;
  withoutP50Ms: number;
  withP99Ms: number;
  withoutP99Ms: number;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: Machine;
  options: BenchOptions;
  build: string;
  cases: CaseInfo[];
  cells: CellSummary[];
  ratios: RatioRow[];
  ceilingRatios: CeilingRatio[];
  comparisons: ComparisonRow[];
  /** the compute ceiling (raw ORT in process) and the case compared with it; null when not run */
  compute: ComputeSummary | null;
  aims: AimCheck[];
}

export interface AimCheck {
  description: string;
  value: number;
  target: number;
  /** met only when value > target (else value ≥ target) */
  strict?: boolean;
  met: boolean;
}

/** One batch size of one raw-ORT round. */
export interface ComputeResult {
  batch: number;
  runs: number;
  rowsPerSec: number;
  msPerRun: number;
}

export interface ComputeRound {
  round: number;
  results: ComputeResult[];
}

export interface ComputeSummary {
  caseId: string;
  model: string;
  rounds: ComputeRound[];
  /** median rows/s and ms per run over the rounds, per batch size */
  median: { batch: number; rowsPerSec: number; msPerRun: number }[];
  /** the batch size with the highest median rows/s */
  best: { batch: number; rowsPerSec: number };
  /** the case served through switchyard on the same model, req/s (one row each) ÷ best rows/s */
  against: { caseId: string; ratios: { connections: number; reqPerSec: number; ratio: number }[] };
}

export function summarize(caseId: string, connections: number, runs: RunRecord[]): CellSummary {
  const reasons: Record<string, number> = {};
  let batches = 0;
  for (const r of runs) {
    if (r.batching === null) continue;
    batches += r.batching.batches;
    for (const [k, v] of Object.entries(r.batching.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
  }
  const sizes = runs.map((r) => r.batching?.meanBatchSize ?? NaN);
  const medianSize = median(sizes);
  return {
    caseId,
    connections,
    runs,
    median: {
      reqPerSec: median(runs.map((r) => r.reqPerSec)),
      p50Ms: median(runs.map((r) => r.latencyMs.p50)),
      p99Ms: median(runs.map((r) => r.latencyMs.p99)),
      meanBatchSize: Number.isFinite(medianSize) ? medianSize : null,
      redisCommandsPerRequest: runs.some((r) => r.redisCommandsPerRequest !== null) ? median(runs.map((r) => r.redisCommandsPerRequest ?? NaN).filter(Number.isFinite)) : null,
    },
    totals: {
      ok2xx: sum(runs.map((r) => r.ok2xx)),
      errors: sum(runs.map((r) => r.errors)),
      timeouts: sum(runs.map((r) => r.timeouts)),
      non2xx: sum(runs.map((r) => r.non2xx)),
      batches,
      reasons,
    },
  };
}

export function ratios(cells: readonly CellSummary[], concurrency: readonly number[], on: string, off: string, ceiling: string): RatioRow[] {
  const rps = (id: string, c: number): number => cells.find((x) => x.caseId === id && x.connections === c)?.median.reqPerSec ?? NaN;
  return concurrency.map((c) => ({
    connections: c,
    batchingVsCeiling: ratio(rps(on, c), rps(ceiling, c)),
    batchingOnVsOff: ratio(rps(on, c), rps(off, c)),
  }));
}

/** Every case that names a ceiling, against it, at each concurrency both measured. */
export function ceilingRatios(cells: readonly CellSummary[], cases: readonly Omit<CaseInfo, 'facts'>[]): CeilingRatio[] {
  const out: CeilingRatio[] = [];
  for (const c of cases) {
    if (c.ceiling === null) continue;
    for (const cell of cells) {
      if (cell.caseId !== c.id) continue;
      const base = cells.find((x) => x.caseId === c.ceiling && x.connections === cell.connections);
      if (base === undefined) continue;
      out.push({ caseId: c.id, ceilingId: c.ceiling, connections: cell.connections, ratio: ratio(cell.median.reqPerSec, base.median.reqPerSec) });
    }
  }
  return out;
}

/** Each comparison at each concurrency where both of its cases were measured. */
export function compare(cells: readonly CellSummary[], comparisons: readonly Comparison[]): ComparisonRow[] {
  const out: ComparisonRow[] = [];
  for (const c of comparisons) {
    for (const a of cells) {
      if (a.caseId !== c.with) continue;
      const b = cells.find((x) => x.caseId === c.without && x.connections === a.connections);
      if (b === undefined) continue;
      out.push({
        title: c.title,
        connections: a.connections,
        withReqPerSec: a.median.reqPerSec,
        withoutReqPerSec: b.median.reqPerSec,
        ratio: ratio(a.median.reqPerSec, b.median.reqPerSec),
        withP50Ms: a.median.p50Ms,
        withoutP50Ms: b.median.p50Ms,
        withP99Ms: a.median.p99Ms,
        withoutP99Ms: b.median.p99Ms,
      });
    }
  }
  return out;
}

/** The aims of the comparisons that have one, at concurrency 256. */
export function comparisonAims(rows: readonly ComparisonRow[], comparisons: readonly Comparison[]): AimCheck[] {
  const out: AimCheck[] = [];
  for (const c of comparisons) {
    const row = rows.find((r) => r.title === c.title && r.connections === 256);
    if (c.aim === undefined || row === undefined || !Number.isFinite(row.ratio)) continue;
    out.push({ description: `${c.title}: req/s with ÷ without at concurrency 256`, value: row.ratio, target: c.aim, met: row.ratio >= c.aim });
    if (c.aimLowerP99 === true) {
      const p99 = ratio(row.withoutP99Ms, row.withP99Ms);
      if (Number.isFinite(p99)) out.push({ description: `${c.title}: p99 without ÷ p99 with at concurrency 256 (above 1: lower p99 with)`, value: p99, target: 1, strict: true, met: p99 > 1 });
    }
  }
  return out;
}

/** Medians over the raw-ORT rounds, the best batch size, and `caseId`'s req/s against it. */
export function computeSummary(rawId: string, model: string, rounds: readonly ComputeRound[], cells: readonly CellSummary[], caseId: string): ComputeSummary {
  const batches = [...new Set(rounds.flatMap((r) => r.results.map((x) => x.batch)))].sort((a, b) => a - b);
  const med = batches.map((batch) => {
    const at = rounds.map((r) => r.results.find((x) => x.batch === batch)).filter((x): x is ComputeResult => x !== undefined);
    return { batch, rowsPerSec: median(at.map((x) => x.rowsPerSec)), msPerRun: median(at.map((x) => x.msPerRun)) };
  });
  const measured = med.filter((m) => Number.isFinite(m.rowsPerSec));
  const best = measured.length === 0 ? { batch: 0, rowsPerSec: NaN } : measured.reduce((a, b) => (b.rowsPerSec > a.rowsPerSec ? b : a));
  const ratios = cells
    .filter((c) => c.caseId === caseId)
    .map((c) => ({ connections: c.connections, reqPerSec: c.median.reqPerSec, ratio: ratio(c.median.reqPerSec, best.rowsPerSec) }));
  return { caseId: rawId, model, rounds: [...rounds], median: med, best: { batch: best.batch, rowsPerSec: best.rowsPerSec }, against: { caseId, ratios } };
}

/** switchyard on the compute model at concurrency 256 ÷ raw ORT's best, against `aim`. */
export function computeAims(compute: ComputeSummary, aim: number): AimCheck[] {
  const row = compute.against.ratios.find((r) => r.connections === 256);
  if (row === undefined || !Number.isFinite(row.ratio)) return [];
  return [
    {
      description: `${compute.against.caseId} at concurrency 256 vs raw in-process ORT on ${compute.model} at its best batch size (${compute.best.batch})`,
      value: row.ratio,
      target: aim,
      met: row.ratio >= aim,
    },
  ];
}

export function comparisonTable(report: BenchReport): string {
  return table(
    ['comparison', 'concurrency', 'req/s with', 'req/s without', 'with ÷ without', 'p50 ms with / without', 'p99 ms with / without'],
    report.comparisons.map((r) => [
      r.title,
      String(r.connections),
      fmtInt(r.withReqPerSec),
      fmtInt(r.withoutReqPerSec),
      fmtPct(r.ratio),
      `${fmtMs(r.withP50Ms)} / ${fmtMs(r.withoutP50Ms)}`,
      `${fmtMs(r.withP99Ms)} / ${fmtMs(r.withoutP99Ms)}`,
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** The reference aims at concurrency 256 (when measured): ≥ 50 % of the ceiling, ≥ 5× batching off. */
export function checkAims(rows: readonly RatioRow[]): AimCheck[] {
  const row = rows.find((r) => r.connections === 256);
  if (row === undefined) return [];
  const out: AimCheck[] = [];
  if (Number.isFinite(row.batchingVsCeiling)) {
    out.push({ description: 'batching on at concurrency 256 vs the ceiling', value: row.batchingVsCeiling, target: 0.5, met: row.batchingVsCeiling >= 0.5 });
  }
  if (Number.isFinite(row.batchingOnVsOff)) {
    out.push({ description: 'batching on vs batching off at concurrency 256', value: row.batchingOnVsOff, target: 5, met: row.batchingOnVsOff >= 5 });
  }
  return out;
}

// ---- text ----

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmtMs = (n: number): string => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '—');
const fmtRatio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');
const fmtPct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(0)} %` : '—');

function fmtReasons(reasons: Record<string, number>): string {
  const total = sum(Object.values(reasons));
  if (total === 0) return '—';
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => {
      const pct = (v / total) * 100;
      return `${k} ${pct < 1 ? '<1' : pct.toFixed(0)}%`;
    })
    .join(', ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export function resultsTable(report: BenchReport): string {
  const title = (id: string): string => report.cases.find((c) => c.id === id)?.title ?? id;
  const rows = report.cells.map((c) => [
    title(c.caseId),
    String(c.connections),
    fmtInt(c.median.reqPerSec),
    fmtMs(c.median.p50Ms),
    fmtMs(c.median.p99Ms),
    `${c.totals.errors} / ${c.totals.non2xx}`,
    c.median.meanBatchSize === null ? '—' : c.median.meanBatchSize.toFixed(1),
    fmtReasons(c.totals.reasons),
    c.median.redisCommandsPerRequest === null ? '—' : c.median.redisCommandsPerRequest.toFixed(2),
  ]);
  return table(
    ['case', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', 'errors / non-2xx', 'mean batch', 'dispatch reasons', 'Redis HMGET/req'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
  );
}

export function ratiosTable(report: BenchReport): string {
  return table(
    ['concurrency', 'batching on ÷ ceiling', 'batching on ÷ batching off'],
    report.ratios.map((r) => [String(r.connections), fmtPct(r.batchingVsCeiling), fmtRatio(r.batchingOnVsOff)]),
    ['r', 'r', 'r'],
  );
}

export function ceilingTable(report: BenchReport): string {
  const title = (id: string): string => report.cases.find((c) => c.id === id)?.title ?? id;
  const concurrency = [...new Set(report.ceilingRatios.map((r) => r.connections))].sort((a, b) => a - b);
  const ids = [...new Set(report.ceilingRatios.map((r) => r.caseId))];
  const rows = ids.map((id) => {
    const first = report.ceilingRatios.find((r) => r.caseId === id);
    const cells = concurrency.map((n) => fmtPct(report.ceilingRatios.find((r) => r.caseId === id && r.connections === n)?.ratio ?? NaN));
    return [title(id), first === undefined ? '—' : title(first.ceilingId), ...cells];
  });
  return table(['case', 'ceiling', ...concurrency.map((n) => `÷ ceiling at ${n}`)], rows, ['l', 'l', ...concurrency.map(() => 'r' as const)]);
}

/** Raw ORT rows/s per batch size, then the switchyard case's req/s as a share of the best. */
export function computeTable(report: BenchReport): string {
  const c = report.compute;
  if (c === null) return '';
  const title = (id: string): string => report.cases.find((x) => x.id === id)?.title ?? id;
  const rows = c.median.map((m) => [`${title(c.caseId)}, batch ${m.batch}${m.batch === c.best.batch ? ' (best)' : ''}`, '—', fmtInt(m.rowsPerSec), fmtMs(m.msPerRun), '—']);
  for (const r of c.against.ratios) rows.push([title(c.against.caseId), String(r.connections), fmtInt(r.reqPerSec), '—', fmtPct(r.ratio)]);
  return table(['compute', 'concurrency', 'rows/s', 'ms per run', '÷ raw ORT best'], rows, ['l', 'r', 'r', 'r', 'r']);
}

function aimsText(report: BenchReport): string {
  if (report.aims.length === 0) return '';
  const lines = report.aims.map((a) => {
    const value = a.target < 1 ? fmtPct(a.value) : fmtRatio(a.value);
    const target = a.target < 1 ? fmtPct(a.target) : fmtRatio(a.target);
    return `- ${a.description}: ${value} (aim ${a.strict === true ? '>' : '≥'} ${target}) — ${a.met ? 'met' : 'not met'}`;
  });
  return `Reference aims:\n\n${lines.join('\n')}\n`;
}

function optionsLine(o: BenchOptions): string {
  return `${o.runs} run(s) of ${o.duration} s after ${o.warmup} s warm-up per case and concurrency; median shown`;
}

/** The markdown the README shows: machine, command, results, ratios. */
export function markdown(report: BenchReport): string {
  const uws = report.cases.map((c) => `${c.id}: ${c.facts.uws !== undefined ? `uWS ${c.facts.uws}` : (c.facts.grpc ?? c.facts.ort ?? '?')}`).join(', ');
  return [
    `# switchyard bench — ${report.startedAt.slice(0, 10)}`,
    '',
    `Machine: ${machineLine(report.machine)}${report.machine.commit ? `; commit ${report.machine.commit}` : ''}`,
    '',
    `Command: \`${report.command}\` (${optionsLine(report.options)}; ${uws})`,
    '',
    'Load: generated in the bench process, closed loop (concurrency = requests in flight), one FP32 row per request (16 values of `tabular`; 512 of `heavy`). REST JSON: autocannon, one request in flight per connection, `POST /v2/models/<model>/infer`. REST binary, gRPC and WebSocket: `switchyard bench`\'s generators (src/loadgen). REST binary: Triton\'s binary tensor extension, one request in flight per connection. gRPC unary: ModelInfer with raw_input_contents on one channel. gRPC stream: ModelStreamInfer, all requests on one stream. WebSocket: /v2/stream JSON text frames, all on one socket. raw ORT: onnxruntime-node in process, session.run() back to back, no load generator running. req/s counts successful answers; latencies are of successful answers; errors and failed answers (non-2xx, gRPC status ≠ OK, error messages) are summed over all runs; mean batch and dispatch reasons come from switchyard\'s /metrics over the measured windows.',
    '',
    resultsTable(report),
    '',
    ratiosTable(report),
    '',
    ceilingTable(report),
    '',
    report.compute !== null ? computeTable(report) : '',
    '',
    report.comparisons.length > 0 ? comparisonTable(report) : '',
    '',
    aimsText(report),
  ].join('\n');
}
