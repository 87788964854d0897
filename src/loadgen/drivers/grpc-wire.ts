/**
 * What the gRPC drivers and the metadata reader share: method paths of
 * inference.GRPCInferenceService, channels, and status names. The load generator speaks the
 * service with the generated message schemas and @grpc/grpc-js's generic Client, so it needs
 * nothing of the gateway's own transport (and works against Triton or KServe as well).
 */
import { fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape, create } from '@bufbuild/protobuf';
import { Client, Metadata, credentials, status as Status, type ServiceError } from '@grpc/grpc-js';
import { GRPCInferenceService } from '../../gen/grpc_service_pb.js';

export type RpcName = 'ModelInfer' | 'ModelStreamInfer' | 'ModelMetadata' | 'ServerMetadata';

export function rpcPath(name: RpcName): string {
  return `/${GRPCInferenceService.typeName}/${name}`;
}

/** Passes bytes through: requests are encoded once, up front. */
export const identity = (b: Buffer): Buffer => b;

const STATUS_NAME = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code as number, name]));

/** "RESOURCE_EXHAUSTED" for 8 and so on. */
export function statusName(code: number): string {
  return STATUS_NAME.get(code) ?? String(code);
}

/**
 * `count` channels to `address`. Distinct channel options keep grpc-js from sharing one
 * connection between the clients (it pools subchannels by address and options).
 */
export function openChannels(address: string, count: number): Client[] {
  return Array.from(
    { length: count },
    (_, i) => new Client(address, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1, 'switchyard.bench.channel': i }),
  );
}

/**
 * `count` channels to `address`, each connected (or given up on after 5 s) before it
 * resolves, so that the clock starts on open connections; a channel that could not connect
 * shows in the first requests' errors.
 */
export async function connectChannels(address: string, count: number): Promise<Client[]> {
  const clients = openChannels(address, count);
  await Promise.all(clients.map((c) => new Promise<void>((resolve) => c.waitForReady(Date.now() + 5000, () => resolve()))));
  return clients;
}

/** One unary call with a deadline; rejects with grpc-js's ServiceError. */
export function unaryCall<I extends DescMessage, O extends DescMessage>(
  client: Client,
  rpc: RpcName,
  input: I,
  output: O,
  request: MessageInitShape<I>,
  timeoutMs: number,
): Promise<MessageShape<O>> {
  const bytes = Buffer.from(toBinary(input, create(input, request)));
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      rpcPath(rpc),
      identity,
      (b: Buffer) => fromBinary(output, b),
      bytes,
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: ServiceError | null, value?: MessageShape<O>) => {
        if (err !== null || value === undefined) reject(err ?? new Error(`${rpc} returned no message`));
        else resolve(value);
      },
    );
  });
}
