import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Reading feature files: JSON lines (one object per line) or CSV with a header row naming
 * the columns. Each record comes with its 1-based line number, or the reason it could not
 * be read. Blank lines are skipped. CSV cells follow RFC 4180 quoting ("a ""b""", commas
 * inside quotes) but a record must fit on one line; an empty cell is a missing value.
 */
export interface FileRecord {
  readonly line: number;
  /** column → value (CSV: strings; JSON: any JSON value), or null when the line is unreadable */
  readonly values: Readonly<Record<string, unknown>> | null;
  /** why the line could not be read, or null */
  readonly error: string | null;
}

export type FileFormat = 'jsonl' | 'csv';

/** The format of a feature file from its extension; null when it is neither. */
export function fileFormat(file: string): FileFormat | null {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  return null;
}

/** Every record of a file, streamed (the file is never held whole). Throws when the file cannot be opened. */
export async function* readRecords(file: string): AsyncGenerator<FileRecord> {
  const format = fileFormat(file);
  if (format === null) throw new Error(`cannot read features from "${path.basename(file)}": expected a .jsonl, .ndjson or .csv file`);
  const stream = createReadStream(file, { encoding: 'utf8' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let header: string[] | null = null;
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      const line = n === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // BOM
      if (line.trim() === '') continue;
      if (format === 'jsonl') {
        yield jsonRecord(n, line);
        continue;
      }
      const cells = splitCsvLine(line);
      if (header === null) {
        if (cells === null) throw new Error(`line ${n}: the CSV header has an unclosed quote`);
        header = cells.map((c) => c.trim());
        continue;
      }
      yield csvRecord(n, header, cells);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

function jsonRecord(line: number, text: string): FileRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, values: null, error: 'not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { line, values: null, error: 'expected a JSON object, one per line' };
  }
  return { line, values: value as Record<string, unknown>, error: null };
}

function csvRecord(line: number, header: readonly string[], cells: string[] | null): FileRecord {
  if (cells === null) return { line, values: null, error: 'unclosed quote (a CSV record must fit on one line)' };
  if (cells.length !== header.length) {
    return { line, values: null, error: `${cells.length} cells, expected ${header.length} as in the header` };
  }
  const values: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) values[header[i]] = cells[i] === '' ? null : cells[i];
  return { line, values, error: null };
}

/** The cells of one CSV line; null when a quote is left open. */
export function splitCsvLine(line: string): string[] | null {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        if (i >= line.length) return null;
        const c = line[i];
        if (c === '"') {
          if (line[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += c;
        i++;
      }
      // anything between the closing quote and the next comma is kept as written
      const comma = line.indexOf(',', i);
      cell += comma === -1 ? line.slice(i) : line.slice(i, comma);
      cells.push(cell);
      if (comma === -1) return cells;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      cells.push(comma === -1 ? line.slice(i) : line.slice(i, comma));
      if (comma === -1) return cells;
      i = comma + 1;
    }
  }
}
