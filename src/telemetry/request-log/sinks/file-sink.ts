import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { RequestLogSink } from '../sink.js';
import { JsonBytes } from '../json-bytes.js';
import type { RequestRecord } from '../record.js';
import { LineEncoder } from './line-encoder.js';

export interface FileSinkOptions {
  readonly name: string;
  /** absolute path of the JSON-lines file */
  readonly path: string;
  /** rotate before a write would take the file past this size */
  readonly maxBytes: number;
  /** rotated files kept: <path>.1 (newest) … <path>.<maxFiles>; 0 = none */
  readonly maxFiles: number;
}

/**
 * JSON lines appended to a file, one write per batch (async fs, no fsync: a crash may lose
 * what the OS had not written yet). Size-based rotation: when the next batch would take
 * the file past max_bytes, <path>.N-1 … <path>.1 shift up one (the oldest is overwritten),
 * the file becomes <path>.1 and a new one is started. A batch larger than max_bytes still
 * goes whole into a fresh file. The folder is created when missing.
 */
export class FileSink implements RequestLogSink {
  readonly name: string;
  private readonly file: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private handle: FileHandle | null = null;
  private size = 0;
  private readonly encoder = new LineEncoder(true);
  private readonly bytes = new JsonBytes();

  constructor(opts: FileSinkOptions) {
    this.name = opts.name;
    this.file = opts.path;
    this.maxBytes = opts.maxBytes;
    this.maxFiles = opts.maxFiles;
  }

  async write(lines: readonly string[]): Promise<number> {
    if (lines.length === 0) return 0;
    await this.append(this.encoder.encode(lines));
    return 0;
  }

  async writeRecords(records: readonly RequestRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    // the buffer is reused: this write settles before the writer hands over the next batch
    const out = this.bytes;
    out.reset();
    for (let i = 0; i < records.length; i++) {
      records[i].writeJson(out);
      out.byte(0x0a);
    }
    await this.append(out.bytes());
    return 0;
  }

  private async append(bytes: Buffer): Promise<void> {
    let handle = this.handle ?? (await this.open());
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) handle = await this.rotate(handle);
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
    this.size += bytes.length;
  }

  private async open(): Promise<FileHandle> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const handle = await open(this.file, 'a');
    try {
      this.size = (await handle.stat()).size;
    } catch (e) {
      await handle.close();
      throw e;
    }
    this.handle = handle;
    return handle;
  }

  private async rotate(handle: FileHandle): Promise<FileHandle> {
    this.handle = null;
    await handle.close();
    if (this.maxFiles === 0) {
      await unlink(this.file).catch(ignoreMissing);
    } else {
      for (let i = this.maxFiles - 1; i >= 1; i--) await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch(ignoreMissing);
      await rename(this.file, `${this.file}.1`).catch(ignoreMissing);
    }
    return this.open();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) await handle.close();
  }
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}
