/**
 * The request log writer: buffered, batched, asynchronous writing of request records to
 * several sinks at once.
 *
 * write(record) is what the request path calls. It is synchronous and O(sinks): the record
 * goes into each sink's bounded ring (no copy, no closure) and a flush is scheduled with
 * one setImmediate per burst. Each sink then writes batches of serialised records with at
 * most one batch in flight, so a slow, failing or stalled sink only ever fills its own ring;
 * after that its records are dropped and counted (metric, and a log line with the count at
 * most once per interval). It never delays or fails the caller.
 *
 * close() stops taking records and resolves once every buffered record reached every
 * sink, or the close timeout passed (what is left is counted as dropped, reason shutdown).
 *
 * Ownership: the writer owns a record from write() on and never changes it.
 */
import { Registry } from 'prom-client';
import type { Logger } from '../../core/index.js';
import { RequestLogMetrics, type DropReason, type SinkCounters } from './metrics.js';
import type { RequestRecord } from './record.js';
import { RecordRing } from './record-ring.js';
import type { RequestLogSink } from './sink.js';

/** Records per sink write; larger batches amortise syscalls / round trips, smaller ones bound the loss of one failed write. */
export const DEFAULT_BATCH_RECORDS = 256;

export interface RequestLogWriterOptions {
  readonly sinks: readonly RequestLogSink[];
  /** records each sink may hold in memory (request_log.buffer_records) */
  readonly bufferRecords: number;
  /** how long close() waits for buffered records to be written (request_log.close_timeout_s) */
  readonly closeTimeoutMs: number;
  readonly log: Logger;
  /** where the request log metrics are registered; a private registry when left out */
  readonly registry?: Registry;
  readonly batchRecords?: number;
  /** longest a record waits before a write is started (request_log.flush_interval_ms); default 0 */
  readonly flushIntervalMs?: number;
  /** at most one "records dropped" log line per sink per interval (default 10 s) */
  readonly dropLogIntervalMs?: number;
}

/** One sink and its ring, batch and counters. Callbacks are bound once, not per batch. */
class Lane {
  readonly sink: RequestLogSink;
  readonly ring: RecordRing;
  /** the records of the batch in flight */
  readonly batch: RequestRecord[] = [];
  /** their lines, for a sink without writeRecords */
  readonly lines: string[] = [];
  readonly counters: SinkCounters;
  inFlight = false;
  /** set when close() gave up on this sink: late settlements are ignored */
  abandoned = false;
  /** drops and the last error since the last log line */
  unlogged: Record<DropReason, number> = { buffer_full: 0, sink_error: 0, shutdown: 0 };
  lastError: unknown = null;
  readonly onWritten: (failed: number) => void;
  readonly onFailed: (err: unknown) => void;

  constructor(sink: RequestLogSink, capacity: number, counters: SinkCounters, writer: RequestLogWriter) {
    this.sink = sink;
    this.ring = new RecordRing(capacity);
    this.counters = counters;
    this.onWritten = (failed) => writer.settled(this, typeof failed === 'number' && failed > 0 ? Math.min(failed, this.batch.length) : 0, null);
    this.onFailed = (err) => writer.settled(this, this.batch.length, err ?? new Error('sink write failed'));
  }

  drop(reason: DropReason, n: number): void {
    if (n <= 0) return;
    this.counters.dropped[reason].inc(n);
    this.unlogged[reason] += n;
  }
}

export class RequestLogWriter {
  private readonly lanes: Lane[];
  private readonly log: Logger;
  private readonly batchRecords: number;
  private readonly closeTimeoutMs: number;
  private readonly dropLogTimer: NodeJS.Timeout;
  private readonly flushIntervalMs: number;
  /** a flush of whatever is buffered is due (timer, or setImmediate when the interval is 0) */
  private scheduled = false;
  /** a flush of full batches is due on the next turn */
  private fullScheduled = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private onIdle: (() => void) | null = null;
  private readonly flushAll = (): void => {
    this.scheduled = false;
    for (const lane of this.lanes) if (!lane.inFlight && lane.ring.size > 0) this.flush(lane);
  };
  private readonly flushFull = (): void => {
    this.fullScheduled = false;
    for (const lane of this.lanes) if (!lane.inFlight && lane.ring.size >= this.batchRecords) this.flush(lane);
  };

  constructor(opts: RequestLogWriterOptions) {
    this.log = opts.log;
    this.batchRecords = Math.max(1, opts.batchRecords ?? DEFAULT_BATCH_RECORDS);
    this.flushIntervalMs = Math.max(0, opts.flushIntervalMs ?? 0);
    this.closeTimeoutMs = opts.closeTimeoutMs;
    const metrics = new RequestLogMetrics(opts.registry ?? new Registry());
    this.lanes = opts.sinks.map((sink) => new Lane(sink, opts.bufferRecords, metrics.forSink(sink.name), this));
    metrics.watch(() => this.lanes.map((l) => ({ name: l.sink.name, buffered: l.ring.size + (l.inFlight ? l.batch.length : 0) })));
    this.dropLogTimer = setInterval(() => this.logDrops(), opts.dropLogIntervalMs ?? 10_000);
    this.dropLogTimer.unref();
  }

  /** True when there is at least one sink: callers may skip building records otherwise. */
  get enabled(): boolean {
    return this.lanes.length > 0 && !this.closed;
  }

  /** Queues `record` for every sink. Never throws, never waits. */
  write(record: RequestRecord): void {
    const lanes = this.lanes;
    if (this.closed) {
      for (let i = 0; i < lanes.length; i++) lanes[i].drop('shutdown', 1);
      return;
    }
    let full = false;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i];
      if (!lane.ring.push(record)) lane.drop('buffer_full', 1);
      else if (lane.ring.size >= this.batchRecords && !lane.inFlight) full = true;
    }
    if (full && !this.fullScheduled) {
      this.fullScheduled = true;
      setImmediate(this.flushFull);
    }
    if (lanes.length > 0) this.schedule();
  }

  /**
   * A flush of what is buffered after the flush interval: each write carries up to that
   * interval's records. Writing whenever the event loop was free made many small writes, and
   * each FileHandle.write costs the event loop ~25 µs (node --cpu-prof of a loop of 160 KB
   * writes); in the REST bench at concurrency 256 the fs write's share of the main thread fell
   * from ~1.0 to ~0.4 µs per request with batches of up to 50 ms.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.flushIntervalMs === 0) setImmediate(this.flushAll);
    else setTimeout(this.flushAll, this.flushIntervalMs).unref();
  }

  /** Records waiting (buffered or in flight) for the sink named `name`; for tests and the gauge. */
  pending(name: string): number {
    const lane = this.lanes.find((l) => l.sink.name === name);
    return lane === undefined ? 0 : lane.ring.size + (lane.inFlight ? lane.batch.length : 0);
  }

  private flush(lane: Lane): void {
    lane.inFlight = true;
    const batch = lane.batch;
    batch.length = 0;
    while (batch.length < this.batchRecords) {
      const record = lane.ring.shift();
      if (record === null) break;
      batch.push(record);
    }
    let result: Promise<number>;
    try {
      const sink = lane.sink;
      if (sink.writeRecords !== undefined) result = sink.writeRecords(batch);
      else {
        const lines = lane.lines;
        lines.length = 0;
        for (let i = 0; i < batch.length; i++) lines.push(batch[i].toLine());
        result = sink.write(lines);
      }
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(lane.onWritten, lane.onFailed);
  }

  /** A sink's write settled: count it, then write the next batch or report idleness. */
  settled(lane: Lane, failed: number, err: unknown): void {
    if (lane.abandoned) return;
    const stored = lane.batch.length - failed;
    if (stored > 0) lane.counters.written.inc(stored);
    if (failed > 0 || err !== null) {
      lane.counters.errors.inc();
      lane.drop('sink_error', failed);
      if (err !== null) lane.lastError = err;
    }
    lane.batch.length = 0;
    lane.lines.length = 0;
    lane.inFlight = false;
    // closing, or a full batch waiting: write on; else what is left waits for the interval
    if (lane.ring.size > 0 && (this.closed || lane.ring.size >= this.batchRecords)) this.flush(lane);
    else if (lane.ring.size > 0) this.schedule();
    else if (this.onIdle !== null && this.idle()) this.onIdle();
  }

  private idle(): boolean {
    for (const lane of this.lanes) if (lane.inFlight || lane.ring.size > 0) return false;
    return true;
  }

  private logDrops(): void {
    for (const lane of this.lanes) {
      const u = lane.unlogged;
      const total = u.buffer_full + u.sink_error + u.shutdown;
      if (total === 0 && lane.lastError === null) continue;
      const fields: Record<string, unknown> = { sink: lane.sink.name, dropped: total, buffer_full: u.buffer_full, sink_error: u.sink_error, shutdown: u.shutdown };
      if (lane.lastError !== null) fields.err = lane.lastError;
      this.log.warn(total > 0 ? 'request log records dropped' : 'request log sink write failed', fields);
      lane.unlogged = { buffer_full: 0, sink_error: 0, shutdown: 0 };
      lane.lastError = null;
    }
  }

  /**
   * Stops taking records, writes every buffered one, then closes the sinks. Bounded by the
   * close timeout: records still buffered then are counted as dropped (reason shutdown).
   * Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + this.closeTimeoutMs;
    if (!this.idle()) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onIdle = resolve;
        timer = setTimeout(resolve, this.closeTimeoutMs);
        this.flushAll();
      });
      clearTimeout(timer);
      this.onIdle = null;
    }
    for (const lane of this.lanes) {
      if (lane.inFlight || lane.ring.size > 0) {
        lane.drop('shutdown', lane.ring.clear() + (lane.inFlight ? lane.batch.length : 0));
        lane.abandoned = true;
      }
    }
    clearInterval(this.dropLogTimer);
    this.logDrops();
    await Promise.all(this.lanes.map((lane) => this.closeSink(lane, Math.max(0, deadline - Date.now()))));
  }

  private async closeSink(lane: Lane, budgetMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        lane.sink.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(budgetMs, 100));
        }),
      ]);
    } catch (e) {
      this.log.warn('request log sink failed to close', { sink: lane.sink.name, err: e });
    } finally {
      clearTimeout(timer);
    }
  }
}
