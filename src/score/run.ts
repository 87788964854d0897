/**
 * A scoring run: read rows, send up to `concurrency` at once (the batcher forms batches from
 * them as from online clients), write each answer in input order as soon as the rows before
 * it are done. Memory is bounded by the window (at most `concurrency` rows and their answers
 * are held) plus the files' write buffers, whatever the file's size.
 *
 * Output line: {"row":N,"id":"<request id>","model_name":…,"model_version":…,"outputs":{"<name>":[…]}}
 * Errors line: {"row":N,"line":L,"code":"SY_ERR_…","error":"<reason>"}
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { ScoreFiles } from './files.js';
import { InputRow, NOT_JSON, inputFormat, openInput, readRows } from './input.js';
import { RowError, RowMapper } from './columns.js';
import { RowFailure, type RowResult, type Scorer } from './scorers.js';
import { ScoreUsageError } from './errors.js';

export interface ScoreOptions {
  readonly input: string;
  readonly output: string;
  /** default `<output>.errors.jsonl` */
  readonly errors: string;
  readonly resume: boolean;
  readonly overwrite: boolean;
  /** CSV column names for a file without a header row */
  readonly columns: readonly string[] | null;
  /** rows in flight at most */
  readonly concurrency: number;
  /** request ids are `<prefix><row>` */
  readonly idPrefix: string;
  /** entity id columns (the config's feature views) */
  readonly entityColumns: readonly string[];
}

export interface ProgressOut {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ScoreSummary {
  /** rows of the file done, this run and the runs it resumed */
  rows: number;
  ok: number;
  failed: number;
  /** rows a resumed run found done */
  skipped: number;
  seconds: number;
  rowsPerSec: number;
  /** stopped by a signal before the end of the file */
  interrupted: boolean;
}

const MAX_RETRIES = 8;
const PROGRESS_MS = 250;

/** One row in the window: its promise resolves (never rejects) to the line to write. */
interface Slot {
  readonly row: number;
  readonly done: Promise<{ ok: boolean; line: string }>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorLine(row: InputRow, code: string, message: string): string {
  return `{"row":${row.row},"line":${row.line},"code":${JSON.stringify(code)},"error":${JSON.stringify(message)}}`;
}

function okLine(row: number, r: RowResult): string {
  return `{"row":${row},"id":${JSON.stringify(r.id)},"model_name":${JSON.stringify(r.model)},"model_version":${JSON.stringify(r.version)},"outputs":${r.outputs}}`;
}

function formatEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '-';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ScoreRun {
  private stopping = false;

  /** Stops reading; the rows in flight finish and are written (resume continues after them). */
  stop(): void {
    this.stopping = true;
  }

  async run(o: ScoreOptions, scorer: Scorer, progress: ProgressOut | null): Promise<ScoreSummary> {
    const format = inputFormat(o.input);
    const stream = await openInput(o.input);
    const size = (await stat(o.input)).size;
    const mapper = new RowMapper(scorer.inputs, scorer.batched, o.entityColumns);
    let firstChecked = false;
    const checkFirst = (row: InputRow): void => {
      if (firstChecked || row.values === null || row.request) return;
      // JSON rows have no header: the first one tells whether the columns are right at all
      const problem = mapper.checkColumns(Object.keys(row.values));
      if (problem !== null) throw new ScoreUsageError(`${o.input} row ${row.row} (line ${row.line}): ${problem}`);
      firstChecked = true;
    };
    const rows = readRows(stream, {
      format,
      columns: o.columns,
      onHeader: (columns) => {
        const problem = mapper.checkColumns(columns);
        if (problem !== null) throw new ScoreUsageError(`${o.columns === null ? `the CSV header of ${o.input}` : '--columns'}: ${problem}`);
        firstChecked = true;
      },
    });
    // the header (or first row) is checked before the output files are touched
    let first: IteratorResult<InputRow>;
    let files: ScoreFiles;
    try {
      first = await rows.next();
      if (first.done !== true) checkFirst(first.value);
      files = await ScoreFiles.open({ output: o.output, errors: o.errors, resume: o.resume, overwrite: o.overwrite });
    } catch (e) {
      stream.destroy();
      throw e;
    }
    const skip = files.skip;
    const started = performance.now();
    let ok = 0;
    let failed = 0;
    let seen = 0;
    const tty = progress !== null && progress.isTTY === true;
    const timer = tty
      ? setInterval(() => {
          const elapsed = (performance.now() - started) / 1000;
          const rate = (ok + failed) / Math.max(elapsed, 1e-3);
          const frac = size > 0 ? stream.bytesRead / size : 0;
          const eta = frac > 0 && frac < 1 ? (elapsed / frac) * (1 - frac) : frac >= 1 ? 0 : NaN;
          progress.write(`\r\x1b[Krows ${skip + ok + failed} (${ok} ok, ${failed} failed)  ${rate.toFixed(0)} rows/s  ${(frac * 100).toFixed(0)}%  ETA ${formatEta(eta)}`);
        }, PROGRESS_MS)
      : null;
    timer?.unref();

    const cap = Math.max(1, o.concurrency);
    const ring: (Slot | null)[] = new Array<Slot | null>(cap).fill(null);
    let head = 0;
    let count = 0;
    const writeOldest = async (): Promise<void> => {
      const slot = ring[head]!;
      ring[head] = null;
      head = (head + 1) % cap;
      count--;
      const r = await slot.done;
      if (r.ok) {
        ok++;
        files.ok(r.line);
      } else {
        failed++;
        files.failed(r.line);
      }
      if (files.full) await files.flush();
    };
    const attempt = async (row: InputRow, send: () => Promise<RowResult>): Promise<{ ok: boolean; line: string }> => {
      for (let tries = 0; ; tries++) {
        try {
          return { ok: true, line: okLine(row.row, await send()) };
        } catch (e) {
          if (e instanceof RowFailure) {
            if (e.retry && tries < MAX_RETRIES) {
              await sleep(Math.min(1000, 10 * 2 ** tries));
              continue;
            }
            return { ok: false, line: errorLine(row, e.code, e.message) };
          }
          return { ok: false, line: errorLine(row, 'SY_ERR_INTERNAL', (e as Error).message) };
        }
      }
    };
    const start = (row: InputRow): Promise<{ ok: boolean; line: string }> => {
      if (row.error !== null) return Promise.resolve({ ok: false, line: errorLine(row, row.error === NOT_JSON ? 'SY_ERR_MALFORMED_JSON' : 'SY_ERR_INVALID_INPUT', row.error) });
      const id = o.idPrefix + row.row;
      if (row.request) return attempt(row, () => scorer.request(id, row.text));
      let tensors;
      try {
        tensors = mapper.tensors(row.values!);
      } catch (e) {
        if (e instanceof RowError) return Promise.resolve({ ok: false, line: errorLine(row, 'SY_ERR_INVALID_INPUT', e.message) });
        throw e;
      }
      return attempt(row, () => scorer.row(id, tensors));
    };

    try {
      for (let next = first; next.done !== true && !this.stopping; next = await rows.next()) {
        const row = next.value;
        seen = row.row;
        checkFirst(row);
        if (row.row <= skip) continue;
        if (count === cap) await writeOldest();
        ring[(head + count) % cap] = { row: row.row, done: start(row) };
        count++;
      }
      while (count > 0) await writeOldest();
    } finally {
      // rows already sent are awaited above on success; on a usage error nothing more is written
      if (timer !== null) clearInterval(timer);
      if (tty) progress.write('\r\x1b[K');
      stream.destroy();
      await files.close();
    }
    if (seen < skip) throw new ScoreUsageError(`--resume: ${o.output} holds ${skip} rows but ${o.input} has ${seen}; is it the same input file?`);
    const seconds = (performance.now() - started) / 1000;
    return { rows: skip + ok + failed, ok, failed, skipped: skip, seconds, rowsPerSec: (ok + failed) / Math.max(seconds, 1e-6), interrupted: this.stopping };
  }
}
