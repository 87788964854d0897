/**
 * The text forms of a bench report: the tables printed on the console and the markdown the
 * project README shows (bench/results/<date>.md).
 */
import { machineLine } from '../../src/loadgen/machine.js';
import type { BenchOptions } from './options.js';
import type { BenchReport } from './report.js';
import { sum } from './stats.js';

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmtMs = (n: number): string => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '—');
const fmtRatio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');
const fmtPct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(0)} %` : '—');
const fmtUs = (n: number | null | undefined): string => (n == null || !Number.isFinite(n) ? '—' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'));
/** ⚠ after a share when any run of the cell was saturated */
const flagged = (share: number | null | undefined, saturatedRuns: number | undefined): string =>
  share == null ? '—' : `${fmtPct(share)}${(saturatedRuns ?? 0) > 0 ? ' ⚠' : ''}`;

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

/** Results written before CPU was read per run have no generator on their cells: their table keeps its old columns. */
const hasCpuColumns = (report: BenchReport): boolean => report.cells.some((c) => c.generator !== undefined);

export function resultsTable(report: BenchReport): string {
  const title = (id: string): string => report.cases.find((c) => c.id === id)?.title ?? id;
  const cpu = hasCpuColumns(report);
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
    ...(cpu
      ? [
          `${fmtUs(c.median.mainUsPerRequest)} / ${fmtUs(c.median.otherUsPerRequest)} / ${fmtUs(c.median.generatorUsPerRequest)}`,
          c.generator == null ? '—' : `${c.generator} ${flagged(c.median.generatorLoad, c.totals.generatorSaturated)}`,
          flagged(c.median.machineBusy, c.totals.machineSaturated),
        ]
      : []),
  ]);
  const header = ['case', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', 'errors / non-2xx', 'mean batch', 'dispatch reasons', 'Redis HMGET/req'];
  const align: ('l' | 'r')[] = ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r'];
  if (cpu) {
    header.push('CPU µs/req main / other / generator', 'generator (load)', 'machine busy');
    align.push('r', 'l', 'r');
  }
  return table(header, rows, align);
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

/** How the load was made (results written since wrk and h2load drive the REST and gRPC unary cases). */
const LOAD =
  'Load: closed loop (concurrency = requests in flight), one FP32 row per request (16 values of `tabular`; 512 of `heavy`), servers and load generators on the same machine. ' +
  'REST JSON and REST binary (Triton\'s binary tensor extension): wrk, one request in flight per connection, `POST /v2/models/<model>/infer` with a Lua script that sets the body and headers (-t2, -t1 at concurrency 1). ' +
  'gRPC unary: h2load -t1, ModelInfer with raw_input_contents, up to 4 connections with the rest of the concurrency as streams on them; the body is checked once for grpc-status 0 before the load. ' +
  'gRPC stream and WebSocket: `switchyard bench`\'s generators (src/loadgen) in the bench process: ModelStreamInfer with all requests on one stream; /v2/stream JSON text frames on one socket. ' +
  'raw ORT: onnxruntime-node in process, session.run() back to back, no load generator running. ' +
  'req/s counts successful answers; latencies are of successful answers (wrk: of all answers, it cannot tell them apart); errors and failed answers (HTTP ≥ 400, gRPC status ≠ OK, error messages) are summed over all runs; mean batch and dispatch reasons come from switchyard\'s /metrics over the measured windows. ' +
  'CPU µs/req: the server\'s main thread, its other threads (and child processes), and the load generator, per answered request over the measured window (/proc). ' +
  'generator (load): its busiest load thread\'s share of a core or its CPU over the cores it could use, whichever is more; machine busy: all cores. ⚠: at least one run at ≥ 90 % (generator) or ≥ 95 % (machine): that number is bounded by the generator or the machine, not the server.';

/** The same for results from before (autocannon and the bench process generated the load). */
const LEGACY_LOAD =
  'Load: generated in the bench process, closed loop (concurrency = requests in flight), one FP32 row per request (16 values of `tabular`; 512 of `heavy`). REST JSON: autocannon, one request in flight per connection, `POST /v2/models/<model>/infer`. REST binary, gRPC and WebSocket: `switchyard bench`\'s generators (src/loadgen). REST binary: Triton\'s binary tensor extension, one request in flight per connection. gRPC unary: ModelInfer with raw_input_contents on one channel. gRPC stream: ModelStreamInfer, all requests on one stream. WebSocket: /v2/stream JSON text frames, all on one socket. raw ORT: onnxruntime-node in process, session.run() back to back, no load generator running. req/s counts successful answers; latencies are of successful answers; errors and failed answers (non-2xx, gRPC status ≠ OK, error messages) are summed over all runs; mean batch and dispatch reasons come from switchyard\'s /metrics over the measured windows.';

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
  const wrk = o.wrkThreads === undefined ? '' : `; wrk -t${o.wrkThreads}`;
  return `${o.runs} run(s) of ${o.duration} s after ${o.warmup} s warm-up per case and concurrency; median shown${wrk}`;
}

/** The markdown the README shows: machine, command, results, ratios. */
export function markdown(report: BenchReport): string {
  const server = (f: Record<string, string>): string =>
    f.mlserver !== undefined ? `MLServer ${f.mlserver}` : f.kserve !== undefined ? `KServe ${f.kserve}` : f.uws !== undefined ? `uWS ${f.uws}` : (f.grpc ?? f.ort ?? '?');
  const uws = report.cases.map((c) => `${c.id}: ${server(c.facts)}`).join(', ');
  return [
    `# switchyard bench — ${report.startedAt.slice(0, 10)}`,
    '',
    `Machine: ${machineLine(report.machine)}${report.machine.commit ? `; commit ${report.machine.commit}` : ''}`,
    '',
    `Command: \`${report.command}\` (${optionsLine(report.options)}; ${uws})`,
    '',
    hasCpuColumns(report) ? LOAD : LEGACY_LOAD,
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
