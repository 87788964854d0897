/**
 * The input file of `switchyard score`, streamed line by line (never held whole):
 * - `.jsonl` / `.ndjson`: one JSON object per line, either a row `{column: value}` or a
 *   KServe v2 request body `{"inputs": [...]}` (a line with an `"inputs"` array is a request);
 * - `.csv`: a header row naming the columns (or `--columns` for a file without one), then one
 *   row per line; cells follow RFC 4180 quoting but a record must fit on one line.
 * Rows are numbered from 1 in file order, blank lines and the CSV header not counted; each
 * row also carries its 1-based line number in the file.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import path from 'node:path';
import { splitCsvLine } from '../features/index.js';
import { ScoreUsageError } from './errors.js';

export type InputFormat = 'jsonl' | 'csv';

/** One data row of the file. */
export class InputRow {
  /** 1-based data row number */
  readonly row: number;
  /** 1-based line in the file */
  readonly line: number;
  /** the line's text (a KServe v2 request is sent as written) */
  readonly text: string;
  /** column → value (CSV: strings, null for an empty cell; JSON: any value); null for a v2 request or an unreadable line */
  readonly values: Record<string, unknown> | null;
  /** the line is a KServe v2 request body (`{"inputs": [...]}`) */
  readonly request: boolean;
  /** why the line cannot be read, or null */
  readonly error: string | null;

  constructor(row: number, line: number, text: string, values: Record<string, unknown> | null, request: boolean, error: string | null) {
    this.row = row;
    this.line = line;
    this.text = text;
    this.values = values;
    this.request = request;
    this.error = error;
  }
}

/** The format from the extension; a usage error for any other. */
export function inputFormat(file: string): InputFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  throw new ScoreUsageError(`--input ${file}: expected a .jsonl (or .ndjson) file of JSON objects, or a .csv file with a header row`);
}

/** Opens the file; a usage error naming it when it cannot be read. */
export async function openInput(file: string): Promise<ReadStream> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('ready', () => resolve());
      stream.once('error', reject);
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'the file does not exist' : code === 'EISDIR' ? 'this is a directory' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? (e as Error).message})`;
    throw new ScoreUsageError(`--input ${file}: ${why}`);
  }
  return stream;
}

/** Lines of a stream without their `\n` (and `\r`), with the stream's bytes read so far. */
async function* lines(stream: ReadStream): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    const text = rest === '' ? chunk : rest + chunk;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield text.slice(start, end);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest !== '') yield rest.charCodeAt(rest.length - 1) === 13 ? rest.slice(0, -1) : rest;
}

export interface ReadOptions {
  format: InputFormat;
  /** CSV column names when the file has no header row (`--columns`); null = the header row */
  columns: readonly string[] | null;
  /** called once with the CSV header's (or --columns') names before the first row */
  onHeader?: (columns: readonly string[]) => void;
}

/** Every data row of the stream, in order. Throws a usage error for an unreadable CSV header. */
export async function* readRows(stream: ReadStream, opts: ReadOptions): AsyncGenerator<InputRow> {
  let header: readonly string[] | null = opts.columns;
  if (header !== null) opts.onHeader?.(header);
  let line = 0;
  let row = 0;
  for await (const raw of lines(stream)) {
    line++;
    const text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw; // BOM
    if (text.trim() === '') continue;
    if (opts.format === 'jsonl') {
      row++;
      yield jsonRow(row, line, text);
      continue;
    }
    const cells = splitCsvLine(text);
    if (header === null) {
      if (cells === null) throw new ScoreUsageError(`line ${line}: the CSV header has an unclosed quote`);
      header = cells.map((c) => c.trim());
      opts.onHeader?.(header);
      continue;
    }
    row++;
    if (cells === null) {
      yield new InputRow(row, line, text, null, false, 'unclosed quote (a CSV record must fit on one line)');
    } else if (cells.length !== header.length) {
      yield new InputRow(row, line, text, null, false, `${cells.length} cells, expected ${header.length} (${opts.columns === null ? 'as in the header' : 'as in --columns'})`);
    } else {
      const values: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++) values[header[i]] = cells[i] === '' ? null : cells[i];
      yield new InputRow(row, line, text, values, false, null);
    }
  }
}

/** the reason of a line that is not JSON */
export const NOT_JSON = 'not valid JSON';

function jsonRow(row: number, line: number, text: string): InputRow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return new InputRow(row, line, text, null, false, NOT_JSON);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return new InputRow(row, line, text, null, false, 'expected a JSON object: a row {"column": value, …} or a KServe v2 request {"inputs": [...]}');
  }
  const o = value as Record<string, unknown>;
  if (Array.isArray(o.inputs)) return new InputRow(row, line, text, null, true, null);
  return new InputRow(row, line, text, o, false, null);
}
