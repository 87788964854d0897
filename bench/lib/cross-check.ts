/**
 * The perf_analyzer bench's numbers: what each load generator (Triton's perf_analyzer and
 * `switchyard bench`) measured per case, level and round, their medians over the rounds, the
 * ratio of the two (the cross-check of switchyard bench's accounting: within ±15% passes),
 * and the markdown report.
 */
import { median, ratio } from './stats.js';

export type Tool = 'perf_analyzer' | 'switchyard bench';
export const TOOLS: readonly Tool[] = ['perf_analyzer', 'switchyard bench'];

/** The band within which the two generators count as agreeing. */
export const AGREEMENT = 0.15;

/** One tool at one load level in one round. Latencies in ms. */
export interface LevelResult {
  /** the concurrency, or the request rate (req/s) */
  readonly value: number;
  readonly inferPerSec: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** mean latency; NaN when the tool did not report it */
  readonly meanMs: number;
  /** server side as the tool reports it: mean queue wait per request, compute time (ms) */
  readonly serverQueueMs: number | null;
  readonly serverComputeMs: number | null;
  /** mean rows per model run over the level */
  readonly meanBatch: number | null;
  /** TCP connections to the server (perf_analyzer: most seen while the level ran; switchyard bench: what it opened) */
  readonly connections: number | null;
  /** e.g. "3.1% of requests delayed", "2 timeouts" */
  readonly notes: readonly string[];
}

/** One tool over one case in one round: its levels and where the CPU went while it ran. */
export interface ToolRun {
  readonly tool: Tool;
  readonly round: number;
  readonly commands: readonly string[];
  readonly levels: readonly LevelResult[];
  /** levels it was asked for and did not measure, with why */
  readonly missing: readonly { readonly value: number; readonly why: string }[];
  readonly wallSeconds: number;
  /** requests the server counted as successful while the tool ran (warm-ups and trials included) */
  readonly serverRequests: number | null;
  /** CPU µs per served request of the load generator, of the server, and of everything else on the machine */
  readonly generatorCpuUsPerRequest: number | null;
  readonly serverCpuUsPerRequest: number | null;
  /** share of the machine's CPU time (all cores) neither the server nor the generator used, 0..1 */
  readonly otherCpuShare: number | null;
  readonly error: string | null;
}

export interface CaseInfo {
  readonly id: string;
  readonly model: string;
  /** perf_analyzer's -i and --streaming, as the reader sees it: http | grpc | grpc-stream */
  readonly protocol: string;
  readonly load: 'concurrency' | 'rate';
  /** switchyard bench's --protocol for the same requests */
  readonly benchProtocol: string;
  readonly description: string;
}

export interface CaseRecord {
  readonly info: CaseInfo;
  readonly runs: readonly ToolRun[];
}

export interface LevelSummary {
  readonly value: number;
  /** rounds that measured the level */
  readonly rounds: number;
  readonly inferPerSec: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /**
   * Closed loop: throughput × mean latency ÷ concurrency (Little's law). 1 when every slot
   * always had a request out and both numbers count the same requests; below 1 by the share
   * of time the generator held a slot between an answer and the next send.
   */
  readonly little: number | null;
  readonly serverQueueMs: number | null;
  readonly serverComputeMs: number | null;
  readonly meanBatch: number | null;
  readonly connections: number | null;
  readonly notes: readonly string[];
}

export interface CrossCheckRow {
  readonly caseId: string;
  readonly value: number;
  readonly pa: LevelSummary | null;
  readonly bench: LevelSummary | null;
  /** switchyard bench ÷ perf_analyzer */
  readonly throughputRatio: number;
  readonly p50Ratio: number;
  /** both ratios within 1 ± AGREEMENT */
  readonly agrees: boolean | null;
}

export interface ToolCost {
  readonly caseId: string;
  readonly tool: Tool;
  readonly generatorCpuUsPerRequest: number;
  readonly serverCpuUsPerRequest: number;
  readonly otherCpuShare: number;
}

const medianOrNull = (values: readonly (number | null)[]): number | null => {
  const m = median(values.filter((v): v is number => v !== null));
  return Number.isFinite(m) ? m : null;
};

/**
 * The rounds' notes once each; notes that differ only in their numbers ("3.1% of requests
 * sent late", "8.7% …") are one: the note with the largest number, marked "(worst round)".
 */
export function mergeNotes(notes: readonly string[]): string[] {
  const byShape = new Map<string, { text: string; top: number; count: number }>();
  for (const n of notes) {
    const shape = n.replace(/\d+(\.\d+)?/g, '#');
    const top = Math.max(...(n.match(/\d+(\.\d+)?/g) ?? ['0']).map(Number));
    const seen = byShape.get(shape);
    if (seen === undefined) byShape.set(shape, { text: n, top, count: 1 });
    else byShape.set(shape, { text: top > seen.top ? n : seen.text, top: Math.max(top, seen.top), count: seen.count + (n === seen.text ? 0 : 1) });
  }
  return [...byShape.values()].map((v) => (v.count > 1 ? `${v.text} (worst round)` : v.text));
}

/** Medians over the rounds, per level, of one tool's runs of one case. */
export function summarizeTool(runs: readonly ToolRun[], tool: Tool, load: 'concurrency' | 'rate' = 'concurrency'): LevelSummary[] {
  const byValue = new Map<number, LevelResult[]>();
  for (const run of runs) {
    if (run.tool !== tool) continue;
    for (const l of run.levels) byValue.set(l.value, [...(byValue.get(l.value) ?? []), l]);
  }
  return [...byValue.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([value, ls]) => ({
      value,
      rounds: ls.length,
      inferPerSec: median(ls.map((l) => l.inferPerSec)),
      p50Ms: median(ls.map((l) => l.p50Ms)),
      p90Ms: median(ls.map((l) => l.p90Ms)),
      p99Ms: median(ls.map((l) => l.p99Ms)),
      meanMs: median(ls.map((l) => l.meanMs)),
      little: load === 'concurrency' ? medianOrNull(ls.map((l) => (Number.isFinite(l.meanMs) ? (l.inferPerSec * l.meanMs) / 1000 / value : null))) : null,
      serverQueueMs: medianOrNull(ls.map((l) => l.serverQueueMs)),
      serverComputeMs: medianOrNull(ls.map((l) => l.serverComputeMs)),
      meanBatch: medianOrNull(ls.map((l) => l.meanBatch)),
      connections: medianOrNull(ls.map((l) => l.connections)),
      notes: mergeNotes(ls.flatMap((l) => l.notes)),
    }));
}

/** One row per case and level: both tools' medians and their ratios. */
export function crossCheck(records: readonly CaseRecord[]): CrossCheckRow[] {
  const rows: CrossCheckRow[] = [];
  for (const r of records) {
    const pa = summarizeTool(r.runs, 'perf_analyzer', r.info.load);
    const bench = summarizeTool(r.runs, 'switchyard bench', r.info.load);
    const values = [...new Set([...pa.map((l) => l.value), ...bench.map((l) => l.value)])].sort((a, b) => a - b);
    for (const value of values) {
      const p = pa.find((l) => l.value === value) ?? null;
      const b = bench.find((l) => l.value === value) ?? null;
      const throughputRatio = ratio(b?.inferPerSec ?? NaN, p?.inferPerSec ?? NaN);
      const p50Ratio = ratio(b?.p50Ms ?? NaN, p?.p50Ms ?? NaN);
      const both = Number.isFinite(throughputRatio) && Number.isFinite(p50Ratio);
      const within = (x: number): boolean => Math.abs(x - 1) <= AGREEMENT;
      rows.push({ caseId: r.info.id, value, pa: p, bench: b, throughputRatio, p50Ratio, agrees: both ? within(throughputRatio) && within(p50Ratio) : null });
    }
  }
  return rows;
}

/** Median CPU costs per case and tool over the rounds. */
export function costs(records: readonly CaseRecord[]): ToolCost[] {
  const out: ToolCost[] = [];
  for (const r of records) {
    for (const tool of TOOLS) {
      const runs = r.runs.filter((x) => x.tool === tool);
      if (runs.length === 0) continue;
      out.push({
        caseId: r.info.id,
        tool,
        generatorCpuUsPerRequest: median(runs.map((x) => x.generatorCpuUsPerRequest ?? NaN)),
        serverCpuUsPerRequest: median(runs.map((x) => x.serverCpuUsPerRequest ?? NaN)),
        otherCpuShare: median(runs.map((x) => x.otherCpuShare ?? NaN)),
      });
    }
  }
  return out;
}

const fmt = (x: number | null, digits: number): string => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const int = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : Math.round(x).toLocaleString('en-US'));
const levelLabel = (load: 'concurrency' | 'rate', value: number): string => (load === 'concurrency' ? `c=${value}` : `${value}/s`);

export interface Report {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly machine: string;
  readonly perfAnalyzer: { readonly path: string; readonly version: string };
  readonly settings: Readonly<Record<string, string | number>>;
  readonly cases: readonly CaseRecord[];
  readonly crossCheck: readonly CrossCheckRow[];
  readonly costs: readonly ToolCost[];
}

/** perf_analyzer's medians: case, level, infer/s, p50, p90, p99, its server-side breakdown. */
export function perfTable(report: Pick<Report, 'cases' | 'crossCheck'>): string {
  const lines = [
    '| case | load | infer/s | p50 ms | p90 ms | p99 ms | server queue ms | server compute ms | batch | conns |',
    '|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of report.crossCheck) {
    const info = report.cases.find((c) => c.info.id === row.caseId)?.info;
    const p = row.pa;
    if (info === undefined || p === null) continue;
    const flag = p.notes.length > 0 ? ` (${p.notes.join('; ')})` : '';
    lines.push(
      `| ${row.caseId} | ${levelLabel(info.load, row.value)} | ${int(p.inferPerSec)}${flag} | ${fmt(p.p50Ms, 2)} | ${fmt(p.p90Ms, 2)} | ${fmt(p.p99Ms, 2)} | ${fmt(p.serverQueueMs, 3)} | ${fmt(p.serverComputeMs, 3)} | ${fmt(p.meanBatch, 1)} | ${fmt(p.connections, 0)} |`,
    );
  }
  return lines.join('\n');
}

/** Both tools side by side with their ratios. */
export function crossCheckTable(report: Pick<Report, 'cases' | 'crossCheck'>): string {
  const lines = [
    `| case | load | perf_analyzer infer/s | switchyard bench req/s | ratio | perf_analyzer p50 ms | switchyard bench p50 ms | ratio | within ±${AGREEMENT * 100}% | server queue ms (pa / bench) | Little's law (pa / bench) |`,
    '|:---|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|',
  ];
  for (const row of report.crossCheck) {
    const info = report.cases.find((c) => c.info.id === row.caseId)?.info;
    if (info === undefined) continue;
    const agree = row.agrees === null ? '—' : row.agrees ? 'yes' : 'no';
    lines.push(
      `| ${row.caseId} | ${levelLabel(info.load, row.value)} | ${int(row.pa?.inferPerSec ?? null)} | ${int(row.bench?.inferPerSec ?? null)} | ${fmt(row.throughputRatio, 2)} | ${fmt(row.pa?.p50Ms ?? null, 3)} | ${fmt(row.bench?.p50Ms ?? null, 3)} | ${fmt(row.p50Ratio, 2)} | ${agree} | ${fmt(row.pa?.serverQueueMs ?? null, 3)} / ${fmt(row.bench?.serverQueueMs ?? null, 3)} | ${fmt(row.pa?.little ?? null, 2)} / ${fmt(row.bench?.little ?? null, 2)} |`,
    );
  }
  return lines.join('\n');
}

/** CPU µs per request of each generator and of the server while it ran, and what others used. */
export function costTable(report: Pick<Report, 'costs'>): string {
  const lines = ['| case | generator | generator CPU µs/req | server CPU µs/req | other processes (share of all cores) |', '|:---|:---|---:|---:|---:|'];
  for (const c of report.costs) {
    lines.push(`| ${c.caseId} | ${c.tool} | ${fmt(c.generatorCpuUsPerRequest, 0)} | ${fmt(c.serverCpuUsPerRequest, 0)} | ${Number.isFinite(c.otherCpuShare) ? `${Math.round(c.otherCpuShare * 100)}%` : '—'} |`);
  }
  return lines.join('\n');
}

export function markdown(report: Report): string {
  const settings = Object.entries(report.settings).map(([k, v]) => `${k} ${v}`).join(', ');
  const failures = report.cases.flatMap((c) =>
    c.runs.flatMap((r) => [
      ...(r.error !== null ? [`- ${c.info.id}, ${r.tool}, round ${r.round}: ${r.error}`] : []),
      ...r.missing.map((m) => `- ${c.info.id}, ${r.tool}, round ${r.round}, ${levelLabel(c.info.load, m.value)}: ${m.why}`),
    ]),
  );
  return [
    `# perf_analyzer against switchyard, ${report.startedAt.slice(0, 10)}`,
    '',
    `\`${report.command}\` — ${report.machine}; perf_analyzer ${report.perfAnalyzer.version}; ${settings}.`,
    '',
    '## Cases',
    '',
    ...report.cases.map((c) => `- **${c.info.id}** — ${c.info.description}`),
    '',
    '## perf_analyzer (medians over the rounds)',
    '',
    perfTable(report),
    '',
    '## Cross-check: switchyard bench ÷ perf_analyzer',
    '',
    crossCheckTable(report),
    '',
    '## CPU per request while each generator ran (medians over the rounds)',
    '',
    costTable(report),
    '',
    ...(failures.length > 0 ? ['## Levels not measured', '', ...failures, ''] : []),
    '## Commands (first round)',
    '',
    '```',
    ...report.cases.flatMap((c) => c.runs.filter((r) => r.round === 1).flatMap((r) => r.commands)),
    '```',
    '',
  ].join('\n');
}
