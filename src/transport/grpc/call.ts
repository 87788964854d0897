/**
 * What a gRPC handler sees of its call (the server's side is h2-call.ts): the request, a
 * metadata lookup, the deadline, the peer, and the ways to answer, one interface per method
 * kind. Handlers answer messages (or bytes already in wire form); the method's encoder
 * turns them into bytes. A call is cancelled when its stream closes before it answered (the
 * client reset it or went away), when its deadline passes (the client gets
 * DEADLINE_EXCEEDED), or when the transport refuses what the client sent; the handler hears
 * it through the one `Cancellable` it registered (an InferRequest, a stream session).
 */
import type { CallStatus } from './grpc-wire.js';

/** Whatever a cancelled call must stop: it is told once. */
export interface Cancellable {
  cancel(): void;
}

/** What every call tells its handler besides the messages. */
export interface CallContext {
  /** The client's deadline, ms since the epoch (Infinity: none). */
  getDeadline(): number;
  /** The first value of a metadata key (lower case); '' when absent, and for binary (-bin) keys. */
  header(key: string): string;
  /** A binary (-bin) metadata value, base64-decoded; null when absent. */
  binaryHeader(key: string): Buffer | null;
  /** "address:port" of the client ('unknown' when the socket does not say). */
  getPeer(): string;
  /** The call was cancelled (see the module comment). */
  readonly cancelled: boolean;
}

export interface UnaryCall<Req, Res> extends CallContext {
  readonly request: Req;
  /** `target.cancel()` runs if the call is cancelled before it is answered. */
  cancels(target: Cancellable): void;
  /** Answers with `response` and status OK. */
  reply(response: Res): void;
  /** Ends the call with an error status. */
  fail(status: CallStatus): void;
}

export interface ServerStreamCall<Req, Res> extends CallContext {
  readonly request: Req;
  cancels(target: Cancellable): void;
  /** Sends a message; false when the client does not read fast enough (wait for the listener's drain). */
  write(response: Res): boolean;
  /** Ends the call with status OK. */
  end(): void;
  fail(status: CallStatus): void;
}

/** What a bidirectional stream's handler hears; `cancel()` is its cancellation. */
export interface StreamListener<Req> extends Cancellable {
  onMessage(request: Req): void;
  /** The client will send no more messages. */
  onHalfClose(): void;
  /** What write() held back has been sent. */
  onDrain(): void;
}

export interface BidiCall<Req, Res> extends CallContext {
  listen(listener: StreamListener<Req>): void;
  write(response: Res): boolean;
  end(): void;
  fail(status: CallStatus): void;
  /** Stops delivering messages (HTTP/2 flow control then holds the client back) until resume(). */
  pause(): void;
  resume(): void;
}

export type CallMode = 'unary' | 'server_streaming' | 'bidi_streaming';

/** A method the server serves at `path`; `handle` gets the call (unary, server streaming: with its request). */
export interface Method {
  readonly path: string;
  readonly mode: CallMode;
  /** Request bytes → message. May throw; the call then ends with the thrown error's status. */
  readonly decode: (bytes: Buffer) => unknown;
  /** Response message → bytes. */
  readonly encode: (message: unknown) => Uint8Array;
  /** Called with the call of this method's kind (UnaryCall, ServerStreamCall, BidiCall). */
  readonly handle: (call: never) => void;
}

/** What the server lends its calls. */
export interface CallHost {
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** The status for an error a decoder or handler threw (logged when it is no GatewayError). */
  statusOf(e: unknown, path: string): CallStatus;
}

/** The connection a call arrived on. */
export interface CallConnection {
  readonly peer: string;
  streamClosed(): void;
}
