/**
 * A typed @grpc/grpc-js client for inference.GRPCInferenceService, built from the same
 * generated descriptors as the server: what tests, the bench's load generator and tools use.
 * Unary rpcs return promises (a failed call rejects with grpc-js's ServiceError: `code`,
 * `details`, `metadata`); ModelStreamInfer returns the raw duplex stream.
 */
import type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { Client, Metadata, credentials, type CallOptions, type ChannelOptions, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { GRPCInferenceService, type ModelInferRequestSchema, type ModelStreamInferResponse } from '../../gen/grpc_service_pb.js';
import { deserializer, methodPath, serializer, type MethodsOf } from './service-definition.js';

type Methods = MethodsOf<typeof GRPCInferenceService>;
type UnaryName = { [K in keyof Methods]: Methods[K]['methodKind'] extends 'unary' ? K : never }[keyof Methods];

export interface RpcOptions {
  metadata?: Metadata;
  /** absolute deadline (Date or ms since the epoch) */
  deadline?: Date | number;
  /** cancels the call when aborted (the call then fails with CANCELLED) */
  signal?: AbortSignal;
}

export class GrpcInferenceClient {
  readonly client: Client;

  /** `address` is host:port; the channel is plaintext. */
  constructor(address: string, options: ChannelOptions = {}) {
    this.client = new Client(address, credentials.createInsecure(), options);
  }

  /** Calls a unary rpc by its camelCase name, e.g. `unary('modelInfer', request)`. */
  unary<K extends UnaryName>(name: K, request: MessageInitShape<Methods[K]['input']>, options: RpcOptions = {}): Promise<MessageShape<Methods[K]['output']>> {
    const m = GRPCInferenceService.method[name];
    // TypeScript cannot follow K from the method table to its output type: say it here
    const decode = deserializer(m.output) as (buf: Buffer) => MessageShape<Methods[K]['output']>;
    const callOptions: CallOptions = options.deadline === undefined ? {} : { deadline: options.deadline };
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        methodPath(GRPCInferenceService, m.name),
        serializer(m.input),
        decode,
        request,
        options.metadata ?? new Metadata(),
        callOptions,
        (err: ServiceError | null, value?: MessageShape<Methods[K]['output']>) => {
          if (err !== null) reject(err);
          else resolve(value!);
        },
      );
      options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }

  /** Opens a ModelStreamInfer stream. */
  stream(options: RpcOptions = {}): ClientDuplexStream<MessageInitShape<typeof ModelInferRequestSchema>, ModelStreamInferResponse> {
    const m = GRPCInferenceService.method.modelStreamInfer;
    const callOptions: CallOptions = options.deadline === undefined ? {} : { deadline: options.deadline };
    const call = this.client.makeBidiStreamRequest(
      methodPath(GRPCInferenceService, m.name),
      serializer(m.input),
      deserializer(m.output),
      options.metadata ?? new Metadata(),
      callOptions,
    );
    options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
    return call;
  }

  close(): void {
    this.client.close();
  }
}
