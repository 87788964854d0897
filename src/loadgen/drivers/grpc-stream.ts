/**
 * gRPC streaming driver: ModelStreamInfer, slot i on stream i mod n (one channel per
 * stream). Each request carries the id `<phase>.<slot>`; answers are matched by it. An answer
 * with `error_message` counts as `grpc-stream error`; a stream that fails fails the requests
 * on it (`grpc <STATUS>`) and is reopened for the next send.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { Metadata, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { ModelStreamInferResponseSchema, type ModelStreamInferResponse } from '../../gen/grpc_service_pb.js';
import { grpcIdField } from '../encode.js';
import type { Driver, Sink } from './driver.js';
import { connectChannels, identity, rpcPath, statusName } from './grpc-wire.js';

const PATH = rpcPath('ModelStreamInfer');
const decode = (b: Buffer): ModelStreamInferResponse => fromBinary(ModelStreamInferResponseSchema, b);

/** Parses `<phase>.<slot>`; null when it is not one of ours. */
export function parseSlotId(id: string): { phase: number; slot: number } | null {
  const dot = id.indexOf('.');
  if (dot <= 0) return null;
  const phase = Number(id.slice(0, dot));
  const slot = Number(id.slice(dot + 1));
  return Number.isInteger(phase) && Number.isInteger(slot) && slot >= 0 ? { phase, slot } : null;
}

export class GrpcStreamDriver implements Driver {
  readonly connections: number;
  private readonly address: string;
  private readonly body: Buffer;
  private clients: Client[] = [];
  private readonly streams: (ClientDuplexStream<Buffer, ModelStreamInferResponse> | null)[] = [];
  private sink: Sink | null = null;
  /** per slot of the current sink: 1 while its request is on a stream */
  private pending = new Uint8Array(0);
  /** per slot of the current sink: its encoded id, made on first use */
  private ids: (Buffer | undefined)[] = [];

  constructor(address: string, body: Buffer, connections: number) {
    this.address = address;
    this.body = body;
    this.connections = connections;
  }

  async open(): Promise<void> {
    this.clients = await connectChannels(this.address, this.connections);
    for (let k = 0; k < this.clients.length; k++) this.streams.push(null);
  }

  send(sink: Sink, slot: number): void {
    if (sink !== this.sink) {
      this.sink = sink;
      this.pending = new Uint8Array(sink.slots);
      this.ids = new Array<Buffer | undefined>(sink.slots);
    }
    const k = slot % this.clients.length;
    const stream = this.streams[k] ?? this.openStream(k);
    const id = (this.ids[slot] ??= grpcIdField(`${sink.id}.${slot}`));
    this.pending[slot] = 1;
    stream.write(Buffer.concat([id, this.body]));
  }

  private openStream(k: number): ClientDuplexStream<Buffer, ModelStreamInferResponse> {
    const call = this.clients[k].makeBidiStreamRequest(PATH, identity, decode, new Metadata(), {});
    call.on('data', (r: ModelStreamInferResponse) => this.answer(r));
    call.on('error', (e: ServiceError) => this.fail(k, call, `grpc ${statusName(e.code)}`, e.details));
    call.on('end', () => this.fail(k, call, 'grpc-stream ended', 'the server ended the stream'));
    this.streams[k] = call;
    return call;
  }

  private answer(r: ModelStreamInferResponse): void {
    const sink = this.sink;
    const ref = parseSlotId(r.inferResponse?.id ?? '');
    if (sink === null || ref === null || ref.phase !== sink.id || this.pending[ref.slot] !== 1) return;
    this.pending[ref.slot] = 0;
    if (r.errorMessage === '') sink.done(ref.slot, null, null);
    else sink.done(ref.slot, 'grpc-stream error', r.errorMessage);
  }

  /** Fails the current sink's requests on stream k; the next send opens a new stream. */
  private fail(k: number, call: ClientDuplexStream<Buffer, ModelStreamInferResponse>, kind: string, detail: string): void {
    if (this.streams[k] !== call) return;
    this.streams[k] = null;
    const sink = this.sink;
    if (sink === null) return;
    const n = this.clients.length;
    for (let slot = k; slot < this.pending.length; slot += n) {
      if (this.pending[slot] !== 1) continue;
      this.pending[slot] = 0;
      sink.done(slot, kind, detail);
    }
  }

  async close(): Promise<void> {
    this.sink = null;
    for (const s of this.streams) s?.cancel();
    for (const c of this.clients) c.close();
    this.clients = [];
    this.streams.length = 0;
  }
}
