/**
 * One /v2/stream connection: decodes its messages, runs them through the gateway, writes
 * responses in completion order, and keeps what it holds bounded.
 *
 * uWebSockets.js cannot stop reading a WebSocket, so the bounds are kept this way:
 * - at most `maxInflight` of the connection's requests run in the gateway at once;
 * - a request starts only while the socket's send buffer (bytes written that the client has
 *   not read) is at most `maxBufferedBytes`; otherwise it waits for uWS's `drain`;
 * - messages that cannot start are held, at most `maxQueued` of them and `maxQueuedBytes`
 *   bytes together (one message always fits);
 * - beyond that a message is answered with an error while the send buffer is below its
 *   limit, and the connection is closed with 1013 (try again later) while it is above: a
 *   client that sends without reading gets no more answers queued for it.
 * So one connection holds at most maxBufferedBytes + maxInflight responses in its send
 * buffer, maxInflight requests in the gateway and max(maxQueuedBytes, maxPayloadBytes) of
 * held messages.
 *
 * Ownership: a message's bytes are uWS's only during receive(); whatever outlives that call
 * (held frames, binary tensors, which are views of their frame) is a copy. From
 * gateway.infer() on, the gateway owns the request; the connection keeps the right to
 * cancel() it, and does so for every request still running when the socket closes.
 */
import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { FixedQueue, GatewayError, WS_BACKPRESSURE_CHANNEL, WS_VIOLATION_CHANNEL, toGatewayError, type ErrorCode, type InferRequest, type InferResponse, type WsViolation } from '../../core/index.js';
import { decodeStreamRequest, encodeInferResponse, parseInferRequestJson, type EncodedResponse, type JsonObject } from '../../protocol/index.js';
import { checkModelName, checkVersion } from '../../repository/index.js';
import { FRAME_PREFIX_BYTES, encodeBinaryFrame, encodeErrorMessage, readFrameHeaderLength } from './frames.js';
import { HeldFrame } from './held-frame.js';

const violationChannel = channel(WS_VIOLATION_CHANNEL);
const backpressureChannel = channel(WS_BACKPRESSURE_CHANNEL);

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TRY_AGAIN_LATER = 1013;

const MAX_ID_LENGTH = 256;
/** uWS send() result when it dropped the message (cannot happen with maxBackpressure 0) */
const SEND_DROPPED = 2;

export type ViolationReason = 'too_large' | 'bad_frame' | 'bad_json' | 'missing_id';

/** What a connection needs of its socket: a uWS WebSocket has all of it. */
export interface StreamSocket {
  send(message: Uint8Array | string, isBinary: boolean): number;
  getBufferedAmount(): number;
  /** closes with a close frame; uWS calls the close handler (and so closed()) at once */
  end(code: number, reason: string): void;
  cork(cb: () => void): unknown;
}

export interface Inferrer {
  infer(req: InferRequest): Promise<InferResponse>;
}

export interface StreamLimits {
  readonly maxPayloadBytes: number;
  readonly maxInflight: number;
  readonly maxQueued: number;
  readonly maxQueuedBytes: number;
  readonly maxBufferedBytes: number;
  readonly maxViolations: number;
}

/** One connection's state, for tests and diagnostics. */
export interface StreamConnectionStats {
  /** requests running in the gateway */
  inflight: number;
  /** received messages not started yet, and their bytes */
  queued: number;
  queuedBytes: number;
  /** bytes written to the socket that the client has not read yet */
  bufferedBytes: number;
  /** the largest bufferedBytes seen (after every write and before every start) */
  peakBufferedBytes: number;
  peakQueued: number;
  peakQueuedBytes: number;
  /** true while the send buffer keeps requests from starting */
  backpressured: boolean;
  /** times the send buffer stopped requests from starting */
  pauses: number;
  violations: number;
  /** requests handed to the gateway, and of those answered (response or error) */
  started: number;
  answered: number;
}

/** A message whose frame, JSON and id were read. */
class Envelope {
  readonly json: JsonObject;
  readonly body: Uint8Array;
  readonly headerLength: number | null;
  readonly id: string;

  constructor(json: JsonObject, body: Uint8Array, headerLength: number | null, id: string) {
    this.json = json;
    this.body = body;
    this.headerLength = headerLength;
    this.id = id;
  }
}

export class StreamConnection {
  private readonly socket: StreamSocket;
  private readonly gateway: Inferrer;
  private readonly limits: StreamLimits;
  private readonly inflight: Set<InferRequest>;
  /** bounded by websocket.max_queued_per_connection */
  private readonly held: FixedQueue<HeldFrame>;
  private heldBytes: number;
  /** the message flush() writes: one bound method instead of a closure per write */
  private out: Uint8Array | string;
  private outBinary: boolean;
  private readonly flush: () => void;
  private open: boolean;
  private violations: number;
  private started: number;
  private answered: number;
  private pauses: number;
  private backpressured: boolean;
  private peakBufferedBytes: number;
  private peakQueued: number;
  private peakQueuedBytes: number;

  constructor(socket: StreamSocket, gateway: Inferrer, limits: StreamLimits) {
    this.socket = socket;
    this.gateway = gateway;
    this.limits = limits;
    this.inflight = new Set();
    this.held = new FixedQueue<HeldFrame>(8);
    this.heldBytes = 0;
    this.out = '';
    this.outBinary = false;
    this.flush = () => this.write();
    this.open = true;
    this.violations = 0;
    this.started = 0;
    this.answered = 0;
    this.pauses = 0;
    this.backpressured = false;
    this.peakBufferedBytes = 0;
    this.peakQueued = 0;
    this.peakQueuedBytes = 0;
  }

  /** A message from uWS; `data` is valid only during this call. */
  receive(data: ArrayBuffer, binary: boolean): void {
    const receivedAt = performance.now();
    const size = data.byteLength;
    if (size > this.limits.maxPayloadBytes) {
      this.violation(
        'too_large',
        'SY_ERR_BODY_TOO_LARGE',
        `message of ${size} bytes is over the limit of ${this.limits.maxPayloadBytes} bytes (websocket.max_payload_bytes); send smaller batches`,
      );
      return;
    }
    if (this.held.length === 0 && this.canStart()) {
      // JSON data decodes into new arrays at once; binary tensors stay views of their frame
      this.start(binary ? new Uint8Array(data.slice(0)) : new Uint8Array(data), binary, receivedAt);
      return;
    }
    this.hold(data, binary, receivedAt);
    this.pump();
  }

  /** uWS `drain`: the client read some of its responses. */
  drain(): void {
    this.pump();
  }

  /** The socket closed (any reason): cancel what runs, drop what waits. Idempotent. */
  closed(): void {
    if (!this.open) return;
    this.open = false;
    const running = [...this.inflight];
    this.inflight.clear();
    for (const req of running) req.cancel();
    this.held.clear();
    this.heldBytes = 0;
  }

  /** Ends the connection with a close frame (the close handler runs at once). */
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.socket.end(code, reason);
    this.closed();
  }

  /** An error for one message: `{"id", "error", "code"}` as a text frame. */
  sendError(id: string | null, e: unknown): void {
    const err = toGatewayError(e);
    this.send(encodeErrorMessage(id, err.code, err.message), false);
  }

  stats(): StreamConnectionStats {
    const buffered = this.open ? this.socket.getBufferedAmount() : 0;
    if (buffered > this.peakBufferedBytes) this.peakBufferedBytes = buffered;
    return {
      inflight: this.inflight.size,
      queued: this.held.length,
      queuedBytes: this.heldBytes,
      bufferedBytes: buffered,
      peakBufferedBytes: this.peakBufferedBytes,
      peakQueued: this.peakQueued,
      peakQueuedBytes: this.peakQueuedBytes,
      backpressured: this.backpressured,
      pauses: this.pauses,
      violations: this.violations,
      started: this.started,
      answered: this.answered,
    };
  }

  /** False once the socket closed. */
  get isOpen(): boolean {
    return this.open;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  get queuedCount(): number {
    return this.held.length;
  }

  get bufferedBytes(): number {
    return this.open ? this.socket.getBufferedAmount() : 0;
  }

  /** True when a request may start now: a free in-flight slot and a send buffer within its limit. */
  private canStart(): boolean {
    if (!this.open || this.inflight.size >= this.limits.maxInflight) return false;
    const buffered = this.socket.getBufferedAmount();
    if (buffered > this.peakBufferedBytes) this.peakBufferedBytes = buffered;
    if (buffered > this.limits.maxBufferedBytes) {
      if (!this.backpressured) {
        this.backpressured = true;
        this.pauses++;
        if (backpressureChannel.hasSubscribers) backpressureChannel.publish(null);
      }
      return false;
    }
    this.backpressured = false;
    return true;
  }

  /** Starts held messages, oldest first, while they may start. */
  private pump(): void {
    while (this.held.length > 0 && this.canStart()) {
      const f = this.held.shift() as HeldFrame;
      this.heldBytes -= f.bytes.byteLength;
      this.start(f.bytes, f.binary, f.receivedAt);
    }
  }

  private hold(data: ArrayBuffer, binary: boolean, receivedAt: number): void {
    const size = data.byteLength;
    const n = this.held.length;
    if (n < this.limits.maxQueued && (n === 0 || this.heldBytes + size <= this.limits.maxQueuedBytes)) {
      this.held.push(new HeldFrame(new Uint8Array(data.slice(0)), binary, receivedAt));
      this.heldBytes += size;
      if (n + 1 > this.peakQueued) this.peakQueued = n + 1;
      if (this.heldBytes > this.peakQueuedBytes) this.peakQueuedBytes = this.heldBytes;
      return;
    }
    if (this.socket.getBufferedAmount() > this.limits.maxBufferedBytes) {
      // the client sends without reading: answering would only grow the send buffer
      this.close(CLOSE_TRY_AGAIN_LATER, 'try again later: too many requests sent without reading the responses');
      return;
    }
    const env = this.envelope(new Uint8Array(data), binary);
    if (env === null) return;
    this.sendError(
      env.id,
      new GatewayError(
        'SY_ERR_QUEUE_FULL',
        `too many requests in flight on this connection (limit ${this.limits.maxInflight} running, and ${this.limits.maxQueued} or ${this.limits.maxQueuedBytes} bytes waiting); wait for responses before sending more`,
      ),
    );
  }

  private start(bytes: Uint8Array, binary: boolean, receivedAt: number): void {
    const env = this.envelope(bytes, binary);
    if (env === null) return;
    let req: InferRequest;
    try {
      req = decodeStreamRequest(env.json, env.body, env.headerLength, receivedAt);
      checkModelName(req.modelName);
      if (req.modelVersion !== null) checkVersion(req.modelVersion);
    } catch (e) {
      this.sendError(env.id, e);
      return;
    }
    this.inflight.add(req);
    this.started++;
    this.gateway.infer(req).then(
      (resp) => this.answer(req, resp),
      (e: unknown) => this.fail(req, e),
    );
  }

  /** Reads the frame, the JSON and the id; reports a protocol violation and returns null when one is wrong. */
  private envelope(bytes: Uint8Array, binary: boolean): Envelope | null {
    let body = bytes;
    let headerLength: number | null = null;
    if (binary) {
      try {
        headerLength = readFrameHeaderLength(bytes);
      } catch (e) {
        this.violation('bad_frame', 'SY_ERR_BAD_REQUEST', (e as Error).message);
        return null;
      }
      body = bytes.subarray(FRAME_PREFIX_BYTES);
    }
    let json: JsonObject;
    try {
      json = parseInferRequestJson(body, headerLength);
    } catch (e) {
      const err = toGatewayError(e);
      this.violation('bad_json', err.code, err.message);
      return null;
    }
    const id = json.id;
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) {
      this.violation(
        'missing_id',
        'SY_ERR_BAD_REQUEST',
        id === undefined
          ? 'the message has no "id"; every stream message carries a client-chosen string id, which its response echoes'
          : `"id" must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${shortJson(id)}`,
      );
      return null;
    }
    return new Envelope(json, body, headerLength, id);
  }

  private answer(req: InferRequest, resp: InferResponse): void {
    if (!this.inflight.delete(req)) return; // the socket closed meanwhile
    this.answered++;
    let out: EncodedResponse;
    try {
      out = encodeInferResponse(resp, req);
    } catch (e) {
      this.sendError(req.id, e);
      this.pump();
      return;
    }
    if (out.headerLength === null) this.send(out.body, false);
    else this.send(encodeBinaryFrame(out.body, out.headerLength), true);
    this.pump();
  }

  private fail(req: InferRequest, e: unknown): void {
    if (!this.inflight.delete(req)) return;
    this.answered++;
    this.sendError(req.id, e);
    this.pump();
  }

  private violation(reason: ViolationReason, code: ErrorCode, message: string): void {
    this.violations++;
    if (violationChannel.hasSubscribers) {
      const msg: WsViolation = { reason };
      violationChannel.publish(msg);
    }
    this.sendError(null, new GatewayError(code, message));
    if (this.violations >= this.limits.maxViolations) {
      this.close(CLOSE_POLICY_VIOLATION, `closed after ${this.violations} protocol violations; see the error messages`);
    }
  }

  /** Writes one message, corked (most writes happen outside uWS's callbacks). */
  private send(message: Uint8Array | string, binary: boolean): void {
    if (!this.open) return;
    this.out = message;
    this.outBinary = binary;
    this.socket.cork(this.flush);
    this.out = '';
    if (!this.open) return;
    const buffered = this.socket.getBufferedAmount();
    if (buffered > this.peakBufferedBytes) this.peakBufferedBytes = buffered;
  }

  private write(): void {
    if (this.socket.send(this.out, this.outBinary) === SEND_DROPPED) {
      this.close(CLOSE_TRY_AGAIN_LATER, 'try again later: the send buffer is full');
    }
  }
}

function shortJson(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
