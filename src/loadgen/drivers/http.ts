/**
 * HTTP/1.1 driver (JSON or Triton's binary extension: the body is encoded by the caller) on
 * an undici Pool: `connections` keep-alive sockets, one request in flight on each
 * (pipelining 1, as HTTP clients send). Each slot reuses one dispatch handler, so a request
 * allocates nothing of ours. A 2xx answer is a success; anything else counts as `http <status>`.
 */
import { Pool, type Dispatcher } from 'undici';
import { serverMessage, socketErrorKind, type Driver, type Sink } from './driver.js';

export interface HttpTarget {
  /** scheme://host:port */
  origin: string;
  /** request path, e.g. /v2/models/tabular/infer */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const DETAIL_BYTES = 300;

/** One slot's handler: undici calls it through one request at a time. */
class SlotHandler implements Dispatcher.DispatchHandler {
  status = 0;
  detail: string | null = null;
  private readonly sink: Sink;
  private readonly slot: number;

  constructor(sink: Sink, slot: number) {
    this.sink = sink;
    this.slot = slot;
  }

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.status >= 300 && this.detail === null) this.detail = chunk.toString('utf8', 0, Math.min(chunk.byteLength, DETAIL_BYTES));
  }

  onResponseEnd(): void {
    const s = this.status;
    if (s >= 200 && s < 300) this.sink.done(this.slot, null, null);
    else this.sink.done(this.slot, `http ${s}`, this.detail === null ? null : serverMessage(this.detail));
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.sink.done(this.slot, socketErrorKind(err), err.message);
  }
}

export class HttpDriver implements Driver {
  readonly connections: number;
  private readonly target: HttpTarget;
  private readonly pool: Pool;
  private readonly options: Dispatcher.DispatchOptions;
  private sink: Sink | null = null;
  private handlers: SlotHandler[] = [];

  constructor(target: HttpTarget, connections: number) {
    this.target = target;
    this.connections = connections;
    // timeouts are the scheduler's (it counts them); undici's own would close the socket
    this.pool = new Pool(target.origin, { connections, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 60_000, connect: { timeout: 10_000 } });
    this.options = { path: target.path, method: 'POST', headers: target.headers, body: target.body };
  }

  async open(): Promise<void> {
    // undici connects on first use; the warm-up opens the sockets
  }

  send(sink: Sink, slot: number): void {
    if (sink !== this.sink) {
      this.sink = sink;
      this.handlers = Array.from({ length: sink.slots }, (_, i) => new SlotHandler(sink, i));
    }
    const h = this.handlers[slot];
    h.status = 0;
    h.detail = null;
    this.pool.dispatch(this.options, h);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
