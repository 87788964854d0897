/**
 * The output and errors files of a scoring run, written in row order, and how a run resumes.
 *
 * Every line of both files starts with `{"row":N,`. Rows finish in input order (the runner
 * holds the finished ones until those before them are done), and each flush writes the
 * errors file's lines before the output file's, so that when the output's last complete line
 * is row P, every failed row before P is in the errors file already. Resuming therefore keeps
 * the output up to its last complete line (a partial line a kill left is cut), keeps the
 * errors file's lines of rows ≤ P (later ones are cut and those rows run again), and skips
 * P input rows. Nothing is written twice, nothing is lost.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { ScoreError, ScoreUsageError } from './errors.js';

const FLUSH_BYTES = 256 * 1024;
const BLOCK = 64 * 1024;
const ROW_PREFIX = /^\{"row":(\d+)[,}]/;

export interface OpenOptions {
  output: string;
  errors: string;
  resume: boolean;
  overwrite: boolean;
}

export class ScoreFiles {
  /** rows already done by the run resumed (0 for a new run) */
  readonly skip: number;
  /** of them, the failed ones (lines kept in the errors file) */
  readonly skippedErrors: number;
  private readonly out: FileHandle;
  private readonly err: FileHandle;
  private outBuf = '';
  private errBuf = '';
  /** where the next write goes in each file */
  private outPos: number;
  private errPos: number;

  private constructor(out: FileHandle, err: FileHandle, outPos: number, errPos: number, skip: number, skippedErrors: number) {
    this.out = out;
    this.err = err;
    this.outPos = outPos;
    this.errPos = errPos;
    this.skip = skip;
    this.skippedErrors = skippedErrors;
  }

  static async open(o: OpenOptions): Promise<ScoreFiles> {
    if (!o.resume && !o.overwrite) {
      const size = await fileSize(o.output);
      if (size !== null && size > 0) throw new ScoreUsageError(`--output ${o.output} exists: pass --resume to continue that run, or --overwrite to start again`);
    }
    const out = await openFile(o.output, '--output');
    let err: FileHandle;
    try {
      err = await openFile(o.errors, '--errors');
    } catch (e) {
      await out.close();
      throw e;
    }
    try {
      if (!o.resume) {
        await out.truncate(0);
        await err.truncate(0);
        return new ScoreFiles(out, err, 0, 0, 0, 0);
      }
      const { end, row } = await lastCompleteLine(out, o.output);
      await out.truncate(end);
      const kept = await keepRowsUpTo(err, row, o.errors);
      return new ScoreFiles(out, err, end, kept.end, row, kept.lines);
    } catch (e) {
      await Promise.all([out.close(), err.close()]);
      throw e;
    }
  }

  /** Appends one output line (without its newline). Call flushIfFull() after. */
  ok(line: string): void {
    this.outBuf += line + '\n';
  }

  failed(line: string): void {
    this.errBuf += line + '\n';
  }

  get full(): boolean {
    return this.outBuf.length + this.errBuf.length >= FLUSH_BYTES;
  }

  async flush(): Promise<void> {
    const e = this.errBuf;
    const o = this.outBuf;
    this.errBuf = '';
    this.outBuf = '';
    try {
      if (e !== '') this.errPos += await writeAll(this.err, e, this.errPos);
      if (o !== '') this.outPos += await writeAll(this.out, o, this.outPos);
    } catch (x) {
      throw new ScoreError(`cannot write the results: ${(x as Error).message}`);
    }
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await Promise.all([this.out.close(), this.err.close()]);
    }
  }
}

/** Writes all of `text` at `pos`; returns the bytes written. */
async function writeAll(h: FileHandle, text: string, pos: number): Promise<number> {
  const buf = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesWritten } = await h.write(buf, done, buf.byteLength - done, pos + done);
    done += bytesWritten;
  }
  return done;
}

async function fileSize(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch {
    return null;
  }
}

async function openFile(file: string, flag: string): Promise<FileHandle> {
  try {
    // r+ keeps what a resumed run wrote; created when missing
    return await open(file, 'a+').then(async (h) => {
      await h.close();
      return open(file, 'r+');
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScoreUsageError(`${flag} ${file}: cannot be written (${code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'this is a directory' : (e as Error).message})`);
  }
}

function rowOf(line: string, file: string): number {
  const m = ROW_PREFIX.exec(line);
  if (m === null) throw new ScoreUsageError(`--resume: ${file} was not written by switchyard score (a line does not start with {"row":N); pass --overwrite to start again`);
  return Number(m[1]);
}

/** The byte offset after the file's last newline, and the row of the line it ends. */
async function lastCompleteLine(h: FileHandle, file: string): Promise<{ end: number; row: number }> {
  const size = (await h.stat()).size;
  let pos = size;
  let lastNl = -1;
  let tail: Buffer = Buffer.alloc(0); // bytes from the start of the block read to lastNl
  while (pos > 0) {
    const len = Math.min(BLOCK, pos);
    pos -= len;
    const block = Buffer.alloc(len);
    await h.read(block, 0, len, pos);
    if (lastNl === -1) {
      const i = block.lastIndexOf(10);
      if (i === -1) continue;
      lastNl = pos + i;
      tail = block.subarray(0, i);
    } else {
      tail = Buffer.concat([block, tail]);
    }
    const prev = tail.lastIndexOf(10);
    if (prev !== -1) return { end: lastNl + 1, row: rowOf(tail.subarray(prev + 1).toString('utf8'), file) };
  }
  if (lastNl === -1) return { end: 0, row: 0 };
  return { end: lastNl + 1, row: rowOf(tail.toString('utf8'), file) };
}

/** Cuts the errors file after its last complete line of a row ≤ `row`; returns its new end and the lines it kept. */
async function keepRowsUpTo(h: FileHandle, row: number, file: string): Promise<{ end: number; lines: number }> {
  const size = (await h.stat()).size;
  let pos = 0;
  let keepEnd = 0;
  let kept = 0;
  let carry = '';
  const block = Buffer.alloc(BLOCK);
  scan: while (pos < size) {
    const { bytesRead } = await h.read(block, 0, BLOCK, pos);
    if (bytesRead === 0) break;
    let start = 0;
    for (;;) {
      const nl = block.indexOf(10, start);
      if (nl === -1 || nl >= bytesRead) break;
      const line = carry + block.toString('utf8', start, nl);
      carry = '';
      if (rowOf(line, file) > row) break scan;
      kept++;
      keepEnd = pos + nl + 1;
      start = nl + 1;
    }
    carry += block.toString('utf8', start, bytesRead);
    pos += bytesRead;
  }
  await h.truncate(keepEnd);
  return { end: keepEnd, lines: kept };
}
