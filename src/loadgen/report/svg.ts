/**
 * The --plot chart, hand-written SVG: latency percentiles (p50 solid, p90 dashed, p99
 * dotted) against achieved throughput, one point per step, one colour per run (sweep
 * value). The x axis is linear from 0; the y axis logarithmic (latencies span decades
 * between light and saturating load). Axes have ticks, labels and a legend.
 */
import type { BenchReport } from '../results.js';
import { fmtMs, runTitle } from './rows.js';

const WIDTH = 880;
const HEIGHT = 520;
const M = { left: 78, right: 220, top: 48, bottom: 64 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const PERCENTILES = [
  { key: 'p50', label: 'p50', dash: '' },
  { key: 'p90', label: 'p90', dash: '7 4' },
  { key: 'p99', label: 'p99', dash: '2 3' },
] as const;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Round tick positions covering [0, max]. */
export function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(v);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

/** Decade bounds around [min, max] and ticks at 1, 2, 5 × 10^k (decades only when many). */
export function logTicks(min: number, max: number): { lo: number; hi: number; ticks: number[] } {
  const lo = 10 ** Math.floor(Math.log10(min));
  let hi = 10 ** Math.ceil(Math.log10(max));
  if (hi <= lo) hi = lo * 10;
  const decades = Math.round(Math.log10(hi / lo));
  const ticks: number[] = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const m of decades > 4 ? [1] : [1, 2, 5]) if (d * m <= hi * 1.0001) ticks.push(d * m);
  }
  return { lo, hi, ticks };
}

function fmtTick(v: number): string {
  if (v >= 1000) return `${v / 1000}k`;
  return String(Math.round(v * 1000) / 1000);
}

export function renderSvg(report: BenchReport): string {
  const runs = report.runs.map((run, i) => ({
    title: runTitle(run) || report.target.model.name,
    color: COLORS[i % COLORS.length],
    points: run.steps.flatMap((s) => (s.latencyMs === null ? [] : [{ x: s.reqPerSec, label: s.label, l: s.latencyMs }])),
  }));
  const all = runs.flatMap((r) => r.points);
  const ys = all.flatMap((p) => [p.l.p50, p.l.p90, p.l.p99]).filter((v) => v > 0);
  const xTicks = linearTicks(Math.max(1, ...all.map((p) => p.x)) * 1.05);
  const xMax = xTicks[xTicks.length - 1];
  const { lo, hi, ticks: yTicks } = logTicks(ys.length > 0 ? Math.min(...ys) : 0.1, ys.length > 0 ? Math.max(...ys) : 1);
  const pw = WIDTH - M.left - M.right;
  const ph = HEIGHT - M.top - M.bottom;
  const X = (v: number): number => M.left + (v / xMax) * pw;
  const Y = (v: number): number => M.top + ph - (Math.log10(Math.max(v, lo) / lo) / Math.log10(hi / lo)) * ph;

  const o = report.options;
  const title = `${report.target.model.name} over ${o.protocol}: latency against throughput (${o.plan.mode === 'concurrency' ? 'closed loop' : 'open loop'})`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${M.left}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  // grid and ticks
  out.push('<g class="x-axis" stroke="#ddd">');
  for (const t of xTicks) out.push(`<line x1="${num(X(t))}" y1="${M.top}" x2="${num(X(t))}" y2="${M.top + ph}"/>`);
  out.push('</g><g class="x-ticks" text-anchor="middle" fill="#333">');
  for (const t of xTicks) out.push(`<text x="${num(X(t))}" y="${M.top + ph + 18}">${fmtTick(t)}</text>`);
  out.push('</g><g class="y-axis" stroke="#ddd">');
  for (const t of yTicks) out.push(`<line x1="${M.left}" y1="${num(Y(t))}" x2="${M.left + pw}" y2="${num(Y(t))}"/>`);
  out.push('</g><g class="y-ticks" text-anchor="end" fill="#333">');
  for (const t of yTicks) out.push(`<text x="${M.left - 8}" y="${num(Y(t) + 4)}">${fmtTick(t)}</text>`);
  out.push('</g>');
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text class="x-label" x="${M.left + pw / 2}" y="${HEIGHT - 18}" text-anchor="middle">throughput (successful requests/s)</text>`);
  out.push(`<text class="y-label" transform="translate(20 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">latency (ms, log scale)</text>`);
  // series
  for (const r of runs) {
    for (const p of PERCENTILES) {
      const pts = r.points.map((pt) => `${num(X(pt.x))},${num(Y(pt.l[p.key]))}`).join(' ');
      out.push(
        `<polyline class="series ${p.key}" data-run="${esc(r.title)}" fill="none" stroke="${r.color}" stroke-width="2"${p.dash === '' ? '' : ` stroke-dasharray="${p.dash}"`} points="${pts}"/>`,
      );
      for (const pt of r.points) {
        out.push(`<circle cx="${num(X(pt.x))}" cy="${num(Y(pt.l[p.key]))}" r="3" fill="${r.color}"><title>${esc(`${r.title} ${pt.label}: ${p.label} ${fmtMs(pt.l[p.key])} ms at ${pt.x.toFixed(0)} req/s`)}</title></circle>`);
      }
    }
  }
  // legend
  const lx = M.left + pw + 20;
  let ly = M.top + 10;
  out.push('<g class="legend">');
  for (const r of runs) {
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${r.color}" stroke-width="3"/><text x="${lx + 36}" y="${ly + 4}">${esc(r.title)}</text>`);
    ly += 20;
  }
  ly += 10;
  for (const p of PERCENTILES) {
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="#333" stroke-width="2"${p.dash === '' ? '' : ` stroke-dasharray="${p.dash}"`}/><text x="${lx + 36}" y="${ly + 4}">${p.label}</text>`);
    ly += 20;
  }
  out.push('</g>', '</svg>', '');
  return out.join('\n');
}
