import type { Writable } from 'node:stream';
import type { RequestLogSink } from '../sink.js';
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
    return new Promise((resolve, reject) => {
      this.stream.write(this.encoder.encode(lines), (err) => (err ? reject(err) : resolve(0)));
    });
  }

  async close(): Promise<void> {
    // standard output belongs to the process: nothing to close
  }
}
