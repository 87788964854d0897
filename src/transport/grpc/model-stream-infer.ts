/**
 * ModelStreamInfer: many inference requests on one bidirectional stream.
 *
 * - Each request is answered when it is done (completion order), its response carrying the
 *   request's `id`; a request that fails gets a response with `error_message` (and its id,
 *   model name and version in `infer_response`), and the stream stays open.
 * - At most `maxInflight` requests of a stream are in flight: at that many, and while the
 *   client does not read what was written (write() returned false), the server stops reading
 *   the stream; HTTP/2 flow control then holds the client back.
 * - When the client half-closes, the stream ends once the requests in flight are answered.
 *   When the stream is cancelled (client gone, deadline passed), they leave the queue.
 * - A request with the parameter `triton_enable_empty_final_response: true` (tritonclient's
 *   `enable_empty_final_response=True`) gets `triton_final_response: true` on its response, as
 *   Triton marks the last response of a request; switchyard's models answer each request
 *   with exactly one response, so that one is the final one and no empty response follows.
 */
import { performance } from 'node:perf_hooks';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { toGatewayError, type InferRequest, type InferResponse, type Logger } from '../../core/index.js';
import type { Gateway } from '../../gateway.js';
import type { ModelInferRequest, ModelStreamInferResponseSchema } from '../../gen/grpc_service_pb.js';
import { applyCallContext } from './deadline.js';
import { decodeModelInferRequest } from './decode-request.js';
import { modelInferResponseBytes } from './encode-response.js';
import type { BidiCall, StreamListener } from './call.js';
import { lenFieldSize, ProtoWriter } from './proto-writer.js';

export type StreamReplyInit = MessageInitShape<typeof ModelStreamInferResponseSchema>;
/** A reply as an init object (errors) or in wire form (answers: see streamAnswer) */
export type StreamReply = StreamReplyInit | Buffer;
type StreamCall = BidiCall<ModelInferRequest, StreamReply>;

/** One ModelStreamInfer call; lives as long as the stream (it is the call's listener). */
export class StreamInferSession implements StreamListener<ModelInferRequest> {
  private readonly gateway: Gateway;
  private readonly call: StreamCall;
  private readonly log: Logger;
  private readonly maxInflight: number;
  private readonly inflight = new Set<InferRequest>();
  /** requests that asked for Triton's final-response flag */
  private readonly flagged = new WeakSet<InferRequest>();
  /** the client half-closed: no more requests will come */
  private halfClosed = false;
  /** the stream is over (ended by us or cancelled): nothing more is written */
  private done = false;
  /** reading paused for backpressure */
  private paused = false;
  /** the last write() was refused until 'drain' */
  private blocked = false;

  constructor(gateway: Gateway, call: StreamCall, maxInflight: number) {
    this.gateway = gateway;
    this.call = call;
    this.log = gateway.log;
    this.maxInflight = maxInflight;
    call.listen(this);
  }

  onHalfClose(): void {
    this.halfClosed = true;
    this.maybeEnd();
  }

  onDrain(): void {
    this.blocked = false;
    this.maybeResume();
  }

  /** The stream was cancelled (client gone, deadline passed, broken stream): its requests leave the queue. */
  cancel(): void {
    if (this.done && this.inflight.size === 0) return;
    this.done = true;
    const reqs = [...this.inflight];
    this.inflight.clear();
    for (const r of reqs) r.cancel();
  }

  onMessage(m: ModelInferRequest): void {
    if (this.done) return;
    let req: InferRequest;
    const flagged = wantsFinalFlag(m);
    const receivedAt = performance.now();
    try {
      req = decodeModelInferRequest(m, receivedAt);
    } catch (e) {
      const err = this.gateway.rejected({ protocol: 'grpc', model: m.modelName, version: m.modelVersion === '' ? null : m.modelVersion, id: m.id, receivedAt }, e);
      this.write(errorReply(err.message, m.id, m.modelName, m.modelVersion, flagged));
      return;
    }
    if (flagged) this.flagged.add(req);
    applyCallContext(req, this.call, this.gateway);
    this.inflight.add(req);
    if (this.inflight.size >= this.maxInflight) this.pause();
    this.gateway.infer(req).then(
      (resp) => this.answer(req, resp),
      (e: unknown) => this.fail(req, e),
    );
  }

  private answer(req: InferRequest, resp: InferResponse): void {
    if (!this.inflight.delete(req)) return;
    let reply: StreamReply;
    try {
      reply = streamAnswer(modelInferResponseBytes(resp, req, this.flagged.has(req) ? FINAL_PARAMETERS : null));
    } catch (e) {
      reply = this.errorFor(req, e);
    }
    this.write(reply);
    this.settled();
  }

  private fail(req: InferRequest, e: unknown): void {
    if (!this.inflight.delete(req)) return;
    this.write(this.errorFor(req, e));
    this.settled();
  }

  private errorFor(req: InferRequest, e: unknown): StreamReplyInit {
    const err = toGatewayError(e);
    if (err !== e) this.log.error('internal error', { rpc: 'ModelStreamInfer', requestId: req.id, err: e });
    return errorReply(err.message, req.id, req.modelName, req.modelVersion ?? '', this.flagged.has(req));
  }

  private write(reply: StreamReply): void {
    if (this.done) return;
    if (!this.call.write(reply)) {
      this.blocked = true;
      this.pause();
    }
  }

  private settled(): void {
    this.maybeResume();
    this.maybeEnd();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.call.pause();
  }

  private maybeResume(): void {
    // resume at half the limit, so a busy stream does not flap between paused and reading
    if (!this.paused || this.blocked || this.inflight.size > this.maxInflight >> 1) return;
    this.paused = false;
    this.call.resume();
  }

  private maybeEnd(): void {
    if (this.done || !this.halfClosed || this.inflight.size > 0) return;
    this.done = true;
    this.call.end();
  }
}

const FINAL_FLAG = 'triton_final_response';
const FINAL_PARAMETERS: Readonly<Record<string, unknown>> = { [FINAL_FLAG]: true };

/** ModelStreamInferResponse with no error_message and `inferResponse` (wire bytes) as infer_response (field 2). */
function streamAnswer(inferResponse: Buffer): Buffer {
  const w = new ProtoWriter(lenFieldSize(inferResponse.byteLength));
  w.bytes(2, inferResponse);
  return w.buf;
}
const FINAL = { parameterChoice: { case: 'boolParam' as const, value: true } };

/** Whether the request set `triton_enable_empty_final_response` (a request parameter, not the model's). */
function wantsFinalFlag(m: ModelInferRequest): boolean {
  const p = m.parameters[ENABLE_FINAL_FLAG];
  if (p === undefined) return false;
  delete m.parameters[ENABLE_FINAL_FLAG];
  return p.parameterChoice.case === 'boolParam' && p.parameterChoice.value;
}

const ENABLE_FINAL_FLAG = 'triton_enable_empty_final_response';

function errorReply(message: string, id: string, modelName: string, modelVersion: string, flagged: boolean): StreamReplyInit {
  return { errorMessage: message, inferResponse: { id, modelName, modelVersion, ...(flagged ? { parameters: { [FINAL_FLAG]: FINAL } } : {}) } };
}
