/**
 * Bench results: their shape (what bench/results/<date>.json holds) and the medians and
 * ratios computed from the raw runs. Their text forms (console tables, README markdown) are in
 * report-text.ts, re-exported here.
 */
import type { RunCpu } from './accounting.js';
import type { LoadResult } from './load.js';
import type { Machine } from '../../src/loadgen/machine.js';
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
  /** where the CPU went over the run (server threads, generator, machine); null without /proc */
  cpu: RunCpu | null;
  /** switchyard's own count of the window's failed requests over the case's door, by status; null for other servers */
  serverFailed: Record<string, number> | null;
}

/** Medians over a cell's runs of what accounting.ts reads; null where no run had it. */
export interface CpuMedians {
  mainUsPerRequest: number | null;
  otherUsPerRequest: number | null;
  generatorUsPerRequest: number | null;
  generatorLoad: number | null;
  machineBusy: number | null;
}

export interface CellSummary {
  caseId: string;
  connections: number;
  runs: RunRecord[];
  median: { reqPerSec: number; p50Ms: number; p99Ms: number; meanBatchSize: number | null; redisCommandsPerRequest: number | null } & Partial<CpuMedians>;
  /** over all measured runs */
  totals: {
    ok2xx: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    batches: number;
    reasons: Record<string, number>;
    /** runs whose load generator was saturated / whose machine was (absent in results from before these were read) */
    generatorSaturated?: number;
    machineSaturated?: number;
  };
  /** the load generator of its runs, e.g. "wrk -t2" (absent in older results) */
  generator?: string | null;
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
  /** the least `with ÷ without` req/s at concurrency `aimAt` the feature should keep, if any */
  aim?: number;
  /** also aim for `with`'s p99 below `without`'s at concurrency `aimAt` */
  aimLowerP99?: boolean;
  /** the concurrency the aims are checked at (default 256) */
  aimAt?: number;
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
  const cpu = (pick: (c: RunCpu) => number | null): number | null => {
    const m = median(runs.map((r) => (r.cpu == null ? NaN : (pick(r.cpu) ?? NaN))));
    return Number.isFinite(m) ? m : null;
  };
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
      mainUsPerRequest: cpu((c) => c.mainUsPerRequest),
      otherUsPerRequest: cpu((c) => c.otherUsPerRequest),
      generatorUsPerRequest: cpu((c) => c.generatorUsPerRequest),
      generatorLoad: cpu((c) => c.generatorLoad),
      machineBusy: cpu((c) => c.machineBusy),
    },
    generator: runs.find((r) => r.cpu?.generator != null)?.cpu?.generator?.name ?? null,
    totals: {
      ok2xx: sum(runs.map((r) => r.ok2xx)),
      errors: sum(runs.map((r) => r.errors)),
      timeouts: sum(runs.map((r) => r.timeouts)),
      non2xx: sum(runs.map((r) => r.non2xx)),
      batches,
      reasons,
      generatorSaturated: runs.filter((r) => r.cpu?.generatorSaturated === true).length,
      machineSaturated: runs.filter((r) => r.cpu?.machineSaturated === true).length,
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

/** The aims of the comparisons that have one, at their concurrency (256 unless `aimAt` says). */
export function comparisonAims(rows: readonly ComparisonRow[], comparisons: readonly Comparison[]): AimCheck[] {
  const out: AimCheck[] = [];
  for (const c of comparisons) {
    const at = c.aimAt ?? 256;
    const row = rows.find((r) => r.title === c.title && r.connections === at);
    if (c.aim === undefined || row === undefined || !Number.isFinite(row.ratio)) continue;
    out.push({ description: `${c.title}: req/s with ÷ without at concurrency ${at}`, value: row.ratio, target: c.aim, met: row.ratio >= c.aim });
    if (c.aimLowerP99 === true) {
      const p99 = ratio(row.withoutP99Ms, row.withP99Ms);
      if (Number.isFinite(p99)) out.push({ description: `${c.title}: p99 without ÷ p99 with at concurrency ${at} (above 1: lower p99 with)`, value: p99, target: 1, strict: true, met: p99 > 1 });
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

export { comparisonTable, computeTable, ceilingTable, markdown, ratiosTable, resultsTable } from './report-text.js';
