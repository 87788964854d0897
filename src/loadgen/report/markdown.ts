/** The --markdown report: what ran where, a table per run, errors and batch sizes. */
import type { BenchReport } from '../results.js';
import { clientLimitNote, fmtBatchSizes, headline, runTitle, stepTable } from './rows.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function formatMarkdown(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [
    '# switchyard bench',
    '',
    headline(report),
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB} GiB, ${m.platform} ${m.release} ${m.arch}, Node ${m.node}. Started ${report.startedAt}.`,
    '',
  ];
  for (const run of report.runs) {
    const title = runTitle(run);
    if (title !== '') out.push(`## ${title}`, '');
    const t = stepTable(report, run);
    out.push(`| ${t.headers.map(cell).join(' | ')} |`, `|${t.headers.map((_h, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const r of t.rows) out.push(`| ${r.map(cell).join(' | ')} |`);
    out.push('');
    const notes: string[] = [];
    for (const s of run.steps) {
      for (const [kind, sample] of Object.entries(s.errorSamples)) notes.push(`- ${s.label} \`${kind}\`: ${cell(sample.replace(/\s+/g, ' '))}`);
      if (s.server !== null && s.server.batches > 0) notes.push(`- ${s.label} batches by size: ${fmtBatchSizes(s)}`);
    }
    const limit = clientLimitNote(run);
    if (limit !== null) notes.push(`- ${limit}`);
    if (notes.length > 0) out.push(...notes, '');
  }
  return out.join('\n');
}
