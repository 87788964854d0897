/** The final table on stdout: one block per run (per sweep value), error samples and batch sizes below. */
import type { BenchReport } from '../results.js';
import { clientLimitNote, fmtBatchSizes, headline, runTitle, stepTable, type Table } from './rows.js';

function align(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (cols: readonly string[]): string =>
    cols
      .map((c, i) => (i === 0 || i === cols.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(t.headers), ...t.rows.map(line)].join('\n');
}

export function formatText(report: BenchReport): string {
  const out: string[] = [headline(report), ''];
  for (const run of report.runs) {
    const title = runTitle(run);
    if (title !== '') out.push(`${title}:`);
    out.push(align(stepTable(report, run)), '');
    for (const s of run.steps) {
      for (const [kind, sample] of Object.entries(s.errorSamples)) out.push(`  ${s.label} ${kind}: ${sample.replace(/\s+/g, ' ')}`);
      if (s.server !== null && s.server.batches > 0) out.push(`  ${s.label} batches by size: ${fmtBatchSizes(s)}`);
    }
    const note = clientLimitNote(run);
    if (note !== null) out.push(`  ${note}`);
    if (out[out.length - 1] !== '') out.push('');
  }
  return out.join('\n');
}
