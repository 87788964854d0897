/** Shared pieces of the gRPC integration tests (grpc*.test.ts). */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Client, Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { Health, HealthCheckResponse_ServingStatus, type HealthCheckResponse } from '../../src/gen/grpc/health/v1/health_pb.js';
import type { InferParameterSchema, ModelInferRequestSchema } from '../../src/gen/grpc_service_pb.js';
import { deserializer, methodPath, serializer } from '../../src/transport/grpc/index.js';

export { HealthCheckResponse_ServingStatus as ServingStatus };
export type InferInit = MessageInitShape<typeof ModelInferRequestSchema>;
/** Request fields the tests vary. */
export interface InferExtra {
  id?: string;
  modelName?: string;
  modelVersion?: string;
  outputs?: { name: string }[];
  parameters?: Record<string, MessageInitShape<typeof InferParameterSchema>>;
}

/** The rejection of `p` (fails the test when `p` resolves). */
export async function rejection(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function tabularTyped(rows: number[][], extra: InferExtra = {}): InferInit {
  return { modelName: 'tabular', inputs: [{ name: 'x', datatype: 'FP32', shape: [BigInt(rows.length), 16n], contents: { fp32Contents: rows.flat() } }], ...extra };
}

export function tabularRaw(rows: number[][], extra: InferExtra = {}): InferInit {
  return {
    modelName: 'tabular',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [BigInt(rows.length), 16n] }],
    rawInputContents: [new Uint8Array(Float32Array.from(rows.flat()).buffer)],
    ...extra,
  };
}

export function heavyRaw(extra: InferExtra = {}): InferInit {
  return { modelName: 'heavy', inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 512n] }], rawInputContents: [new Uint8Array(new Float32Array(512).fill(0.01).buffer)], ...extra };
}

/** Little-endian raw output bytes as numbers (copied: the bytes may be a Buffer view of the whole message). */
export function floats(bytes: Uint8Array): number[] {
  return Array.from(new Float32Array(new Uint8Array(bytes).buffer));
}

export function int64s(bytes: Uint8Array): bigint[] {
  return Array.from(new BigInt64Array(new Uint8Array(bytes).buffer));
}

export function authorization(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** A grpc.health.v1 client. */
export class HealthClient {
  private readonly client: Client;

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  check(service: string): Promise<HealthCheckResponse> {
    const m = Health.method.check;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(methodPath(Health, m.name), serializer(m.input), deserializer(m.output), { service }, (err, value) => {
        if (err) reject(err);
        else resolve(value!);
      });
    });
  }

  /** Opens Watch; `onStatus` gets every status sent. Returns a cancel function. */
  watch(service: string, onStatus: (s: HealthCheckResponse_ServingStatus) => void): () => void {
    const m = Health.method.watch;
    const call = this.client.makeServerStreamRequest(methodPath(Health, m.name), serializer(m.input), deserializer(m.output), { service });
    call.on('data', (r: HealthCheckResponse) => onStatus(r.status));
    call.on('error', () => undefined);
    return () => call.cancel();
  }

  close(): void {
    this.client.close();
  }
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
