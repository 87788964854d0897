import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REFERENCE_FILE } from './monitor.js';
import { REFERENCE_FORMAT, quantilesOf, type ReferenceColumn, type ReferenceFile } from './reference.js';
import { readSampleFile, SampleFileError } from './sample-file.js';

export interface WriteReferenceOptions {
  /** the model repository root */
  readonly root: string;
  readonly model: string;
  readonly version: string;
  /** the version's folder, when not <root>/<model>/<version> (a single-model repository) */
  readonly folder?: string;
  /** the sample: .jsonl / .ndjson / .json or .csv (see sample-file.ts) */
  readonly file: string;
  /** stamped in `created` (default: now) */
  readonly now?: Date;
}

export interface WrittenReference {
  /** where reference.json was written */
  readonly path: string;
  /** the columns it describes */
  readonly columns: readonly string[];
  /** values in the largest column */
  readonly sampleSize: number;
}

const PLAIN_NAME = /^(?!\.\.?$)[^/\\]+$/;

/**
 * What `switchyard drift reference --model m --version v --file sample` does: reads the
 * sample, and writes `<root>/<model>/<version>/reference.json` with 101 quantiles per
 * column (replacing the file atomically). The version folder must exist. Throws a
 * SampleFileError saying what is wrong with the arguments or the sample.
 */
export async function writeReferenceFile(opts: WriteReferenceOptions): Promise<WrittenReference> {
  if (!PLAIN_NAME.test(opts.model)) throw new SampleFileError(`model name "${opts.model}" is not a folder name`);
  if (!PLAIN_NAME.test(opts.version)) throw new SampleFileError(`version "${opts.version}" is not a folder name`);
  const folder = opts.folder ?? path.join(opts.root, opts.model, opts.version);
  const isDir = await stat(folder).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new SampleFileError(`model "${opts.model}" has no version folder "${opts.version}" in the model repository`);
  const sample = await readSampleFile(opts.file).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SampleFileError(`sample file ${path.basename(opts.file)} does not exist`);
    throw e;
  });
  const columns: Record<string, ReferenceColumn> = {};
  let sampleSize = 0;
  for (const [name, values] of sample) {
    const column = quantilesOf(values);
    if (column === null) continue;
    columns[name] = column;
    sampleSize = Math.max(sampleSize, values.length);
  }
  const names = Object.keys(columns);
  if (names.length === 0) throw new SampleFileError(`sample file ${path.basename(opts.file)} holds no numeric column`);
  const reference: ReferenceFile = {
    format: REFERENCE_FORMAT,
    model_name: opts.model,
    model_version: opts.version,
    created: (opts.now ?? new Date()).toISOString(),
    sample_size: sampleSize,
    columns,
  };
  const target = path.join(folder, REFERENCE_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  await mkdir(folder, { recursive: true });
  await writeFile(temp, renderReference(reference), 'utf8');
  await rename(temp, target);
  return { path: target, columns: names, sampleSize };
}

/** JSON with one line per column (readable diffs, compact). */
export function renderReference(reference: ReferenceFile): string {
  const { columns, ...head } = reference;
  const lines = Object.entries(columns).map(([name, column]) => `    ${JSON.stringify(name)}: ${JSON.stringify(column)}`);
  const headText = JSON.stringify(head, null, 2).slice(0, -2); // drop the closing "\n}"
  return `${headText},\n  "columns": {\n${lines.join(',\n')}\n  }\n}\n`;
}
