import type { Writable } from 'node:stream';
import type { RequestLogSink } from '../sink.js';
import { JsonBytes } from '../json-bytes.js';
import type { RequestRecord } from '../record.js';
import { LineEncoder } from './line-encoder.js';

/**
 * JSON lines on standard output (or another stream, for tests). A write settles when the
 * stream has taken the batch, so a reader that falls behind fills this sink's buffer and
 * its records are dropped, never the requests.
 */
export class StdoutSink implements RequestLogSink {
  readonly name: string;
  private readonly stream: Writable;
  private readonly encoder = new LineEncoder(false);

  constructor(name: string, stream: Writable = process.stdout) {
    this.name = name;
    this.stream = stream;
  }

  write(lines: readonly string[]): Promise<number> {
    if (lines.length === 0) return Promise.resolve(0);
    return this.send(this.encoder.encode(lines));
  }

  writeRecords(records: readonly RequestRecord[]): Promise<number> {
    if (records.length === 0) return Promise.resolve(0);
    // a fresh buffer per batch: the stream may keep the chunk it was given
    const out = new JsonBytes(records.length * 700);
    for (let i = 0; i < records.length; i++) {
      records[i].writeJson(out);
      out.byte(0x0a);
    }
    return this.send(out.bytes());
  }

  private send(bytes: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.stream.write(bytes, (err) => (err ? reject(err) : resolve(0)));
    });
  }

  async close(): Promise<void> {
    // standard output belongs to the process: nothing to close
  }
}
