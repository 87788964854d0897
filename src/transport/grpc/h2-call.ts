/**
 * One gRPC call on one HTTP/2 stream of node:http2: reads the length-prefixed request
 * messages (inflating gzip/deflate ones, refusing those over the size limit), decodes them
 * with the method's decoder, hands them to the handler, and writes the answer — response
 * headers, messages, then status trailers, or a trailers-only response for a call that ends
 * before it answered anything.
 *
 * Handlers see it through the narrow interfaces of call.ts (UnaryCall, ServerStreamCall,
 * BidiCall). There is no EventEmitter and no metadata object per call: stream events reach
 * the call through listeners shared by every stream.
 *
 * Ownership: a decoded request may hold views of the DATA chunk it arrived in; from the
 * handler on, the handler owns it. Bytes given to reply()/write() are copied behind the
 * message prefix at once, so the caller may reuse them.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { gunzip, inflate } from 'node:zlib';
import type { BidiCall, Cancellable, CallConnection, CallHost, Method, ServerStreamCall, StreamListener, UnaryCall } from './call.js';
import { frame, OK_TRAILERS, parseTimeout, PREFIX_BYTES, RESPONSE_HEADERS, Status, statusTrailers, trailersOnly, type CallStatus } from './grpc-wire.js';

const CALL = Symbol('switchyard.grpc.call');
interface CallStream extends ServerHttp2Stream {
  [CALL]: H2Call;
}

// Listeners shared by every stream (`this` is the stream): no closures per call.
function onData(this: CallStream, chunk: Buffer): void {
  this[CALL].receive(chunk);
}
function onEnd(this: CallStream): void {
  this[CALL].halfClose();
}
function onClose(this: CallStream): void {
  this[CALL].closed();
}
function onDrain(this: CallStream): void {
  this[CALL].drained();
}
function onWantTrailers(this: CallStream): void {
  this[CALL].sendTrailers();
}
function onDeadline(call: H2Call): void {
  call.deadlineExpired();
}

// no `date` header: gRPC clients do not read it, and a value that changes every second costs HPACK work
const WAIT_FOR_TRAILERS = Object.freeze({ waitForTrailers: true, sendDate: false });
const END_STREAM = Object.freeze({ endStream: true, sendDate: false });
const OK_TRAILERS_ONLY = Object.freeze(trailersOnly({ code: Status.OK, details: 'OK', metadata: null }));

function status(code: number, details: string): CallStatus {
  return { code, details, metadata: null };
}

/** A request message waiting behind a decompression or a pause; `bytes` null until inflated. */
class Pending {
  bytes: Buffer | null;
  constructor(bytes: Buffer | null) {
    this.bytes = bytes;
  }
}

/** One call; implements every call interface, the handler sees the one of its method's kind. */
export class H2Call implements UnaryCall<unknown, unknown>, ServerStreamCall<unknown, unknown>, BidiCall<unknown, unknown> {
  request: unknown;
  cancelled: boolean;
  private readonly stream: CallStream;
  private readonly headers: IncomingHttpHeaders;
  private readonly method: Method;
  private readonly host: CallHost;
  private readonly conn: CallConnection;
  private readonly encoding: string;
  private deadline: number;
  private timer: NodeJS.Timeout | null;
  /** request messages received (all of them, delivered or not) */
  private received: number;
  /** the status is sent or the call cancelled: nothing more is written or delivered */
  private done: boolean;
  private headersSent: boolean;
  /** trailers to send when the stream asks for them */
  private trailers: Readonly<Record<string, string>> | null;
  /** the client half-closed while messages still wait in the backlog */
  private endPending: boolean;
  private paused: boolean;
  /** messages not delivered yet, in order (null: none) */
  private backlog: Pending[] | null;
  /** the 5-byte prefix when it arrives split over chunks */
  private head: Buffer | null;
  private headFill: number;
  /** the message being read when it arrives over several chunks */
  private body: Buffer | null;
  private bodyFill: number;
  private bodyFlag: number;
  private cancelTarget: Cancellable | null;
  private listener: StreamListener<unknown> | null;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, method: Method, host: CallHost, conn: CallConnection) {
    this.request = null;
    this.cancelled = false;
    this.stream = stream as CallStream;
    this.headers = headers;
    this.method = method;
    this.host = host;
    this.conn = conn;
    const enc = headers['grpc-encoding'];
    this.encoding = typeof enc === 'string' ? enc : 'identity';
    this.deadline = Infinity;
    this.timer = null;
    this.received = 0;
    this.done = false;
    this.headersSent = false;
    this.trailers = null;
    this.endPending = false;
    this.paused = false;
    this.backlog = null;
    this.head = null;
    this.headFill = 0;
    this.body = null;
    this.bodyFill = 0;
    this.bodyFlag = 0;
    this.cancelTarget = null;
    this.listener = null;
  }

  /** Starts the call: reads the stream, arms the deadline, and starts a bidi handler at once. */
  start(): void {
    const s = this.stream;
    s[CALL] = this;
    s.on('close', onClose);
    s.on('data', onData);
    s.on('end', onEnd);
    if (this.method.mode !== 'unary') s.on('drain', onDrain);
    const timeout = this.headers['grpc-timeout'];
    if (timeout !== undefined) {
      const ms = parseTimeout(String(timeout));
      if (Number.isNaN(ms)) {
        this.abort(status(Status.INTERNAL, `Invalid grpc-timeout value "${String(timeout)}"`));
        return;
      }
      this.deadline = Date.now() + ms;
      this.timer = setTimeout(onDeadline, ms, this);
    }
    if (this.method.mode === 'bidi_streaming') this.run();
  }

  getDeadline(): number {
    return this.deadline;
  }

  header(key: string): string {
    const v = this.headers[key];
    if (v === undefined || key.endsWith('-bin')) return '';
    return typeof v === 'string' ? v : (v[0] ?? '');
  }

  binaryHeader(key: string): Buffer | null {
    const v = this.headers[key];
    if (v === undefined) return null;
    return Buffer.from(typeof v === 'string' ? v : (v[0] ?? ''), 'base64');
  }

  getPeer(): string {
    return this.conn.peer;
  }

  cancels(target: Cancellable): void {
    if (this.cancelled) target.cancel();
    else this.cancelTarget = target;
  }

  listen(listener: StreamListener<unknown>): void {
    this.listener = listener;
    this.cancels(listener);
  }

  reply(response: unknown): void {
    if (this.done) return;
    const bytes = this.method.encode(response);
    if (bytes.byteLength > this.host.maxSendMessageBytes) {
      this.fail(this.sendTooLarge(bytes));
      return;
    }
    this.finish();
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    s.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    this.headersSent = true;
    this.trailers = OK_TRAILERS;
    // on(), not once(): the stream asks once, and once() wraps the listener in a new closure
    s.on('wantTrailers', onWantTrailers);
    s.end(frame(bytes));
  }

  write(response: unknown): boolean {
    if (this.done) return true;
    const bytes = this.method.encode(response);
    if (bytes.byteLength > this.host.maxSendMessageBytes) {
      this.abort(this.sendTooLarge(bytes));
      return true;
    }
    const s = this.stream;
    if (s.destroyed || s.closed) return true;
    if (!this.headersSent) {
      s.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
      this.headersSent = true;
    }
    return s.write(frame(bytes));
  }

  end(): void {
    if (this.done) return;
    this.finish();
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    if (this.headersSent) this.endWith(OK_TRAILERS);
    else s.respond(OK_TRAILERS_ONLY, END_STREAM);
  }

  fail(st: CallStatus): void {
    if (this.done) return;
    this.finish();
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    if (this.headersSent) this.endWith(statusTrailers(st));
    else s.respond(trailersOnly(st), END_STREAM);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.stream.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
    if (!this.paused && !this.done) this.stream.resume();
  }

  /** A DATA chunk: cut it into messages (a message may span chunks, a chunk hold several). */
  receive(chunk: Buffer): void {
    if (this.done) return; // the rest of a finished call is read and dropped
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      let body = this.body;
      if (body === null) {
        let flag: number;
        let len: number;
        if (this.headFill === 0 && n - off >= PREFIX_BYTES) {
          flag = chunk[off];
          len = chunk.readUInt32BE(off + 1);
          off += PREFIX_BYTES;
        } else {
          const head = (this.head ??= Buffer.allocUnsafe(PREFIX_BYTES));
          while (this.headFill < PREFIX_BYTES && off < n) head[this.headFill++] = chunk[off++];
          if (this.headFill < PREFIX_BYTES) return;
          this.headFill = 0;
          flag = head[0];
          len = head.readUInt32BE(1);
        }
        if (len > this.host.maxReceiveMessageBytes) {
          this.abort(status(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${len} vs ${this.host.maxReceiveMessageBytes})`));
          return;
        }
        if (n - off >= len) {
          // the whole message is in this chunk: a view, no copy
          off += len;
          this.message(flag, chunk.subarray(off - len, off));
          if (this.done) return;
          continue;
        }
        body = this.body = Buffer.allocUnsafe(len);
        this.bodyFill = 0;
        this.bodyFlag = flag;
      }
      const take = Math.min(n - off, body.length - this.bodyFill);
      chunk.copy(body, this.bodyFill, off, off + take);
      this.bodyFill += take;
      off += take;
      if (this.bodyFill === body.length) {
        this.body = null;
        this.message(this.bodyFlag, body);
        if (this.done) return;
      }
    }
  }

  /** The client half-closed its side. */
  halfClose(): void {
    if (this.done) return;
    if (this.backlog === null) this.endOfInput();
    else this.endPending = true;
  }

  /** The stream closed; before the call was answered, that is a cancellation. */
  closed(): void {
    this.conn.streamClosed();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.done) return;
    this.done = true;
    this.notifyCancel();
  }

  drained(): void {
    if (this.done || this.listener === null) return;
    try {
      this.listener.onDrain();
    } catch (e) {
      this.abort(this.host.statusOf(e, this.method.path));
    }
  }

  sendTrailers(): void {
    const t = this.trailers;
    this.trailers = null;
    if (t !== null && !this.stream.destroyed) this.stream.sendTrailers(t);
  }

  deadlineExpired(): void {
    this.timer = null;
    this.abort(status(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
  }

  private message(flag: number, bytes: Buffer): void {
    if (this.method.mode !== 'bidi_streaming' && this.received > 0) {
      this.abort(status(Status.UNIMPLEMENTED, `Received a second request message for method ${this.method.path}, which takes one`));
      return;
    }
    this.received++;
    // as grpc-js: only flag 1 means compressed, and "compressed" with identity is taken as it is
    if (flag !== 1 || this.encoding === 'identity') {
      if (this.backlog === null && !this.paused) this.deliver(bytes);
      else (this.backlog ??= []).push(new Pending(bytes));
      return;
    }
    if (this.encoding !== 'gzip' && this.encoding !== 'deflate') {
      this.abort(status(Status.UNIMPLEMENTED, `Received message compressed with unsupported encoding "${this.encoding}"`));
      return;
    }
    const p = new Pending(null);
    (this.backlog ??= []).push(p);
    const max = this.host.maxReceiveMessageBytes;
    (this.encoding === 'gzip' ? gunzip : inflate)(bytes, { maxOutputLength: max }, (err, out) => {
      if (this.done) return;
      if (err !== null) {
        this.abort(
          (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
            ? status(Status.RESOURCE_EXHAUSTED, `Received message that decompresses to a size larger than ${max}`)
            : status(Status.INTERNAL, 'Failed to decompress message'),
        );
        return;
      }
      p.bytes = out;
      this.flush();
    });
  }

  /** Delivers what waits in the backlog, in order, until a pause or a message still inflating. */
  private flush(): void {
    const q = this.backlog;
    if (q !== null) {
      while (q.length > 0) {
        if (this.paused || this.done) return;
        const bytes = q[0].bytes;
        if (bytes === null) return;
        q.shift();
        this.deliver(bytes);
      }
      this.backlog = null;
    }
    if (this.endPending && !this.done) {
      this.endPending = false;
      this.endOfInput();
    }
  }

  private deliver(bytes: Buffer): void {
    let msg: unknown;
    try {
      msg = this.method.decode(bytes);
    } catch (e) {
      this.abort(this.host.statusOf(e, this.method.path));
      return;
    }
    if (this.method.mode === 'bidi_streaming') {
      try {
        this.listener?.onMessage(msg);
      } catch (e) {
        this.abort(this.host.statusOf(e, this.method.path));
      }
      return;
    }
    this.request = msg;
    this.run();
  }

  private endOfInput(): void {
    if (this.method.mode !== 'bidi_streaming') {
      if (this.received === 0) this.abort(status(Status.UNIMPLEMENTED, `Received no request message for method ${this.method.path}`));
      return;
    }
    try {
      this.listener?.onHalfClose();
    } catch (e) {
      this.abort(this.host.statusOf(e, this.method.path));
    }
  }

  /** Runs the handler; one that throws ends the call (nothing a client sends takes the process down). */
  private run(): void {
    try {
      // this call is the kind of call the method's handler takes (see Method.handle)
      (this.method.handle as (call: H2Call) => void)(this);
    } catch (e) {
      this.abort(this.host.statusOf(e, this.method.path));
    }
  }

  /** The transport ends the call: the client gets `st`, the handler a cancellation. */
  private abort(st: CallStatus): void {
    if (this.done) return;
    this.fail(st);
    this.notifyCancel();
  }

  private notifyCancel(): void {
    this.cancelled = true;
    const t = this.cancelTarget;
    this.cancelTarget = null;
    if (t === null) return;
    try {
      t.cancel();
    } catch (e) {
      this.host.statusOf(e, this.method.path); // logs it; the call is over already
    }
  }

  private finish(): void {
    this.done = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private endWith(trailers: Readonly<Record<string, string>>): void {
    this.trailers = trailers;
    this.stream.on('wantTrailers', onWantTrailers);
    this.stream.end();
  }

  private sendTooLarge(bytes: Uint8Array): CallStatus {
    return status(Status.RESOURCE_EXHAUSTED, `Sent message larger than max (${bytes.byteLength + PREFIX_BYTES} vs. ${this.host.maxSendMessageBytes})`);
  }
}
