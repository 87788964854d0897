/**
 * Recomputes a results file's compute-ceiling summary and aims from the raw runs it holds
 * and rewrites its .json and .md, after a fix to the report code. No measurement is
 * repeated or changed.
 *
 *   npx tsx bench/rereport.ts bench/results/<date>.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { checkAims, comparisonAims, computeAims, computeSummary, markdown, type BenchReport } from './lib/report.js';
import { COMPARISONS, COMPUTE_AIM, HEAVY, RAW_ORT } from './lib/suite.js';

const file = process.argv[2];
if (file === undefined || !file.endsWith('.json')) {
  process.stderr.write('usage: npx tsx bench/rereport.ts bench/results/<date>.json\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
const compute = report.compute === null ? null : computeSummary(RAW_ORT, HEAVY, report.compute.rounds, report.cells, COMPUTE_AIM.caseId);
const rewritten: BenchReport = {
  ...report,
  compute,
  aims: [...checkAims(report.ratios), ...comparisonAims(report.comparisons, COMPARISONS), ...(compute === null ? [] : computeAims(compute, COMPUTE_AIM.aim))],
};
writeFileSync(file, `${JSON.stringify(rewritten, null, 2)}\n`);
writeFileSync(file.replace(/\.json$/, '.md'), markdown(rewritten));
for (const a of rewritten.aims) process.stdout.write(`aim: ${a.description}: ${a.value.toFixed(2)} (${a.strict === true ? '>' : '≥'} ${a.target}) ${a.met ? 'met' : 'NOT met'}\n`);
