/**
 * Batch (offline) scoring: `switchyard score` runs a JSONL or CSV file through a gateway (in
 * this process, or at --url), writing answers in input order, failures to an errors file, and
 * resuming after an interruption.
 */
export { ScoreRun, type ScoreOptions, type ScoreSummary, type ProgressOut } from './run.js';
export { inProcessScorer, httpScorer, RowFailure, type Scorer, type RowResult } from './scorers.js';
export { RowMapper, RowError } from './columns.js';
export { ScoreFiles } from './files.js';
export { readRows, openInput, inputFormat, InputRow, type InputFormat } from './input.js';
export { ScoreError, ScoreUsageError } from './errors.js';
