/**
 * The chaos run's load client: a fixed number of closed loops, each sending one request after
 * the other (paced to a total rate), every request with its own id and its own entry in the
 * ledger. REST loops share one undici Pool (keep-alive); gRPC loops share one channel.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ServiceError } from '@grpc/grpc-js';
import { Pool } from 'undici';
import { ERRORS, type ErrorCode } from '../../src/core/errors.js';
import { GrpcInferenceClient } from '../../src/transport/grpc/index.js';
import type { Lane, Sent } from './ledger.js';

export interface LoadOptions {
  readonly httpUrl: string;
  readonly grpcAddress: string;
  /** the plain model and the runtime route the REST loops call */
  readonly model: string;
  readonly route: string;
  /** loops per lane */
  readonly loops: Readonly<Record<Lane, number>>;
  /** requests per second, all loops together */
  readonly rate: number;
  /** called with every REST answer's headers (e.g. which replica a load balancer picked) */
  readonly onAnswer?: (s: Sent, headers: IncomingHttpHeaders) => void;
  /** prefix of the request ids (default "chaos") */
  readonly idPrefix?: string;
}

const ROW = Array.from({ length: 16 }, (_, i) => (i - 8) / 4);
const ERROR_CODE_METADATA = 'switchyard-error-code';

export class Load {
  readonly sent: Sent[] = [];
  private readonly pool: Pool;
  private readonly grpc: GrpcInferenceClient;
  private readonly loops: Promise<void>[] = [];
  private readonly restBody: string;
  private nextAt = 0;
  private readonly interval: number;
  private inflight = 0;
  private paused: { resume: Promise<void>; release: () => void } | null = null;
  private idle: (() => void) | null = null;
  /** set once SIGTERM went out: a loop ends at its first client failure */
  stopping = false;
  /** set when the gateway has exited: every loop ends */
  gone = false;
  private seq = 0;

  constructor(private readonly opts: LoadOptions) {
    const restLoops = opts.loops['rest:model'] + opts.loops['rest:route'];
    this.pool = new Pool(opts.httpUrl, { connections: restLoops, pipelining: 1, keepAliveTimeout: 30_000 });
    this.grpc = new GrpcInferenceClient(opts.grpcAddress);
    this.restBody = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16], data: ROW }] });
    this.interval = 1000 / opts.rate;
  }

  start(): void {
    let n = 0;
    for (const lane of ['rest:model', 'rest:route', 'grpc:model'] as const) {
      for (let i = 0; i < this.opts.loops[lane]; i++) this.loops.push(this.loop(lane, n++));
    }
  }

  /** Stops sending new requests and resolves once none is in flight. */
  pause(): Promise<void> {
    let release = (): void => undefined;
    const resume = new Promise<void>((r) => (release = r));
    this.paused = { resume, release };
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((r) => (this.idle = r));
  }

  resume(): void {
    const p = this.paused;
    this.paused = null;
    p?.release();
  }

  /** Resolves when every loop has ended (after stopping or gone). */
  async finished(): Promise<void> {
    await Promise.all(this.loops);
    await this.pool.destroy().catch(() => undefined);
    this.grpc.client.close();
  }

  private async pace(): Promise<void> {
    const now = performance.now();
    this.nextAt = Math.max(this.nextAt + this.interval, now);
    const wait = this.nextAt - now;
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
  }

  private async loop(lane: Lane, n: number): Promise<void> {
    for (;;) {
      while (this.paused !== null) await this.paused.resume;
      await this.pace();
      if (this.gone) return;
      if (this.paused !== null) continue;
      const s: Sent = { id: `${this.opts.idPrefix ?? 'chaos'}-${n}-${this.seq++}`, lane, sentAt: performance.now(), doneAt: null, status: null, code: null, connectionClose: false, failure: null };
      this.sent.push(s);
      this.inflight++;
      try {
        if (lane === 'grpc:model') await this.grpcCall(s);
        else await this.restCall(s, lane === 'rest:model' ? this.opts.model : this.opts.route);
      } finally {
        s.doneAt = performance.now();
        if (--this.inflight === 0 && this.idle !== null) {
          const idle = this.idle;
          this.idle = null;
          idle();
        }
      }
      if (s.status === null && this.stopping) return;
      // before SIGTERM a failure is a finding (the ledger reports it); keep the load going
      if (s.status === null) await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async restCall(s: Sent, model: string): Promise<void> {
    try {
      const r = await this.pool.request({
        path: `/v2/models/${model}/infer`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': s.id },
        body: this.restBody,
      });
      await r.body.text();
      s.status = r.statusCode;
      const code = r.headers['x-switchyard-error'];
      s.code = r.statusCode === 200 ? 'success' : typeof code === 'string' ? code : `HTTP ${r.statusCode} without x-switchyard-error`;
      s.connectionClose = String(r.headers.connection ?? '').toLowerCase() === 'close';
      this.opts.onAnswer?.(s, r.headers);
    } catch (e) {
      s.failure = reason(e);
    }
  }

  private async grpcCall(s: Sent): Promise<void> {
    try {
      await this.grpc.unary('modelInfer', {
        id: s.id,
        modelName: this.opts.model,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 16n] }],
        rawInputContents: [new Uint8Array(Float32Array.from(ROW).buffer)],
      });
      s.status = 200;
      s.code = 'success';
    } catch (e) {
      const err = e as ServiceError;
      const code = err.metadata?.get(ERROR_CODE_METADATA)[0];
      if (typeof code === 'string') {
        // the gateway answered with an error: its code says which (the same table as REST)
        s.code = code;
        s.status = code in ERRORS ? ERRORS[code as ErrorCode].http : 500;
      } else {
        s.failure = `grpc ${err.code ?? '?'}: ${String(err.details ?? err.message).slice(0, 80)}`;
      }
    }
  }
}

function reason(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return `${err.code ?? 'error'}: ${String(err.message ?? e).slice(0, 80)}`;
}
