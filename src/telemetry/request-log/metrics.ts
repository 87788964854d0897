import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a record did not reach a sink: its buffer was full, the sink failed, or shutdown gave up on it. */
export type DropReason = 'buffer_full' | 'sink_error' | 'shutdown';
export const DROP_REASONS: readonly DropReason[] = ['buffer_full', 'sink_error', 'shutdown'];

/** What the buffered-records gauge reads at scrape time. */
export interface BufferedView {
  readonly name: string;
  readonly buffered: number;
}

/** The counters one sink increments (children of the labelled metrics, resolved once). */
export interface SinkCounters {
  readonly written: Counter.Internal;
  readonly errors: Counter.Internal;
  readonly dropped: Readonly<Record<DropReason, Counter.Internal>>;
}

/**
 * Prometheus metrics of the request log, registered in the registry given:
 *   switchyard_request_log_records_total{sink}            records a sink stored
 *   switchyard_request_log_dropped_total{sink,reason}     records a sink never stored
 *   switchyard_request_log_sink_errors_total{sink}        failed writes (each a batch)
 *   switchyard_request_log_buffered_records{sink}         records waiting in memory
 */
export class RequestLogMetrics {
  private readonly written: Counter<'sink'>;
  private readonly dropped: Counter<'sink' | 'reason'>;
  private readonly errors: Counter<'sink'>;
  private views: () => Iterable<BufferedView> = () => [];

  constructor(registry: Registry) {
    const registers = [registry];
    this.written = new Counter({
      name: 'switchyard_request_log_records_total',
      help: 'Request log records written by each sink',
      labelNames: ['sink'],
      registers,
    });
    this.dropped = new Counter({
      name: 'switchyard_request_log_dropped_total',
      help: 'Request log records a sink never wrote: buffer_full (the sink fell behind), sink_error (the write failed), shutdown (still buffered when the close timeout ran out)',
      labelNames: ['sink', 'reason'],
      registers,
    });
    this.errors = new Counter({
      name: 'switchyard_request_log_sink_errors_total',
      help: 'Failed request log writes (each a batch of records) per sink',
      labelNames: ['sink'],
      registers,
    });
    const views = (): Iterable<BufferedView> => this.views();
    new Gauge({
      name: 'switchyard_request_log_buffered_records',
      help: 'Request log records waiting in memory to be written, per sink',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const v of views()) this.set({ sink: v.name }, v.buffered);
      },
    });
  }

  /** The counters of one sink; its series exist (at 0) from now on. */
  forSink(sink: string): SinkCounters {
    const dropped = {} as Record<DropReason, Counter.Internal>;
    for (const reason of DROP_REASONS) dropped[reason] = this.dropped.labels({ sink, reason });
    return { written: this.written.labels({ sink }), errors: this.errors.labels({ sink }), dropped };
  }

  /** What the buffered gauge reports at scrape time. */
  watch(views: () => Iterable<BufferedView>): void {
    this.views = views;
  }
}
