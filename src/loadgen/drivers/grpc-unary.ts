/**
 * gRPC unary driver: ModelInfer calls spread over `connections` channels (slot i uses
 * channel i mod n). The request is encoded once; answers are not decoded (an OK status is a
 * success, any other status counts as `grpc <STATUS>`).
 */
import { Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import type { Driver, Sink } from './driver.js';
import { connectChannels, identity, rpcPath, statusName } from './grpc-wire.js';

const PATH = rpcPath('ModelInfer');

export class GrpcUnaryDriver implements Driver {
  readonly connections: number;
  private readonly address: string;
  private readonly body: Buffer;
  private clients: Client[] = [];

  constructor(address: string, body: Buffer, connections: number) {
    this.address = address;
    this.body = body;
    this.connections = connections;
  }

  async open(): Promise<void> {
    this.clients = await connectChannels(this.address, this.connections);
  }

  send(sink: Sink, slot: number): void {
    // grpc-js takes one callback per call: this closure is the one allocation it forces
    this.clients[slot % this.clients.length].makeUnaryRequest(PATH, identity, identity, this.body, new Metadata(), {}, (err: ServiceError | null) => {
      if (err === null) sink.done(slot, null, null);
      else sink.done(slot, `grpc ${statusName(err.code)}`, err.details);
    });
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.close();
    this.clients = [];
  }
}
