import type { Tensor } from './tensor.js';

export type Protocol = 'rest' | 'grpc' | 'ws';

/** An output the client asked for, with how it wants it encoded. */
export interface RequestedOutput {
  readonly name: string;
  /** Triton binary extension: send this output as raw bytes after the JSON header */
  readonly binary: boolean;
  readonly parameters: Record<string, unknown> | null;
}

let seq = 0;
const PREFIX = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;

/** A request id that is unique within the process and across restarts. */
export function newRequestId(): string {
  seq = (seq + 1) >>> 0;
  return PREFIX + seq.toString(36);
}

/**
 * The protocol-neutral inference request every transport builds and hands to
 * Gateway.infer(). Ownership: from the call on, the gateway owns the request and its input
 * buffers (they may be copied into a batch or transferred to a worker); the transport keeps
 * only the right to call cancel().
 */
export class InferRequest {
  id: string;
  modelName: string;
  /** null = the newest READY version */
  modelVersion: string | null;
  inputs: Tensor[];
  /** null = every output of the model, in JSON */
  outputs: RequestedOutput[] | null;
  parameters: Record<string, unknown> | null;
  /** 0 = the model's default priority; 1 is the highest */
  priority: number;
  /** queue timeout in microseconds; 0 = the model's default_timeout_us */
  timeoutUs: number;
  /**
   * performance.now() after which the client no longer wants the answer (a gRPC call's
   * deadline); Infinity = none. A request still queued then is dropped, never run.
   */
  deadline: number;
  protocol: Protocol;
  /** all outputs as binary (Triton's binary_data_output request parameter) */
  binaryOutputs: boolean;
  /** performance.now() when the transport received the request */
  receivedAt: number;
  cancelled: boolean;
  /**
   * Request headers a route reads (sticky key, x-switchyard-target), lower-case names; the
   * transports copy only those (Gateway.routingHeaders()), and only for routes. null = none.
   */
  headers: Record<string, string> | null;
  /** a shadow copy: runs at the lowest priority level, and is never answered to a client */
  shadow: boolean;
  /** the caller's W3C trace context header (`traceparent`), or null */
  traceparent: string | null;
  /**
   * The request's trace span while it is traced (opaque here: telemetry owns its type), so
   * that the batch it runs in can link to it; null when tracing is off.
   */
  trace: unknown;
  /** set by whoever holds the request in a queue; called once on cancel() */
  onCancel: ((req: InferRequest) => void) | null;

  constructor(modelName: string, modelVersion: string | null, inputs: Tensor[], protocol: Protocol, receivedAt: number) {
    this.id = '';
    this.modelName = modelName;
    this.modelVersion = modelVersion;
    this.inputs = inputs;
    this.outputs = null;
    this.parameters = null;
    this.priority = 0;
    this.timeoutUs = 0;
    this.deadline = Infinity;
    this.protocol = protocol;
    this.binaryOutputs = false;
    this.receivedAt = receivedAt;
    this.cancelled = false;
    this.headers = null;
    this.shadow = false;
    this.traceparent = null;
    this.trace = null;
    this.onCancel = null;
  }

  /** The client went away: drop the request wherever it waits. Idempotent. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const cb = this.onCancel;
    this.onCancel = null;
    if (cb !== null) cb(this);
  }
}

export class InferResponse {
  id: string;
  modelName: string;
  modelVersion: string;
  outputs: Tensor[];
  parameters: Record<string, unknown> | null;
  /** microseconds spent queued and computing, and the batch (in items) the request ran in */
  queueUs: number;
  computeUs: number;
  batchSize: number;

  constructor(id: string, modelName: string, modelVersion: string, outputs: Tensor[]) {
    this.id = id;
    this.modelName = modelName;
    this.modelVersion = modelVersion;
    this.outputs = outputs;
    this.parameters = null;
    this.queueUs = 0;
    this.computeUs = 0;
    this.batchSize = 0;
  }
}
