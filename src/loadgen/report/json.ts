/** The --json report: the whole BenchReport (options, machine, target, every step), pretty-printed. */
import type { BenchReport } from '../results.js';

export function formatJson(report: BenchReport): string {
  // NaN and Infinity have no JSON form: they become null
  return JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
