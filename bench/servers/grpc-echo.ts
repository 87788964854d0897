/**
 * The gRPC ceiling: the fastest a @grpc/grpc-js server on this machine answers the
 * benchmark's ModelInfer, with no batching and no model. It serves
 * inference.GRPCInferenceService's ModelInfer (and ModelStreamInfer, for the stream case)
 * with the same generated codec as switchyard: each request is decoded, as any server must,
 * and answered with a fixed ModelInferResponse shaped like a one-row tabular answer in raw
 * contents (a stream answer carries the request's id, so clients can match it).
 *
 * Runs as its own process: `node --import tsx bench/servers/grpc-echo.ts [host] [port]`.
 * Prints one line `{"port":N,"grpc":"<grpc-js version>"}` on stdout once it listens, like
 * hello-uws.ts; exits on SIGTERM/SIGINT.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { createRequire } from 'node:module';
import { GRPCInferenceService, ModelInferRequestSchema, ModelInferResponseSchema, ModelStreamInferResponseSchema, type ModelInferRequest } from '../../src/gen/grpc_service_pb.js';
import { methodPath } from '../../src/transport/grpc/index.js';

const require = createRequire(import.meta.url);
const grpcVersion = (require('@grpc/grpc-js/package.json') as { version: string }).version;

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? '0');

const RESPONSE = create(ModelInferResponseSchema, {
  modelName: 'tabular',
  modelVersion: '1',
  outputs: [
    { name: 'probabilities', datatype: 'FP32', shape: [1n, 3n] },
    { name: 'label', datatype: 'INT64', shape: [1n] },
  ],
  rawOutputContents: [new Uint8Array(new Float32Array([0.25, 0.5, 0.25]).buffer), new Uint8Array(new BigInt64Array([1n]).buffer)],
});
const RESPONSE_BYTES = Buffer.from(toBinary(ModelInferResponseSchema, RESPONSE));

const identity = (b: Buffer): Buffer => b;
const decode = (b: Buffer): ModelInferRequest => fromBinary(ModelInferRequestSchema, b);

const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
server.addService(
  {
    modelInfer: {
      path: methodPath(GRPCInferenceService, 'ModelInfer'),
      requestStream: false,
      responseStream: false,
      requestDeserialize: decode,
      requestSerialize: (m: ModelInferRequest) => Buffer.from(toBinary(ModelInferRequestSchema, m)),
      // the answer is encoded once, up front
      responseSerialize: identity,
      responseDeserialize: identity,
    },
    modelStreamInfer: {
      path: methodPath(GRPCInferenceService, 'ModelStreamInfer'),
      requestStream: true,
      responseStream: true,
      requestDeserialize: decode,
      requestSerialize: (m: ModelInferRequest) => Buffer.from(toBinary(ModelInferRequestSchema, m)),
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  {
    modelInfer: (_call: ServerUnaryCall<ModelInferRequest, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, RESPONSE_BYTES),
    modelStreamInfer: (call: ServerDuplexStream<ModelInferRequest, Buffer>) => {
      call.on('data', (req: ModelInferRequest) => {
        RESPONSE.id = req.id;
        call.write(Buffer.from(toBinary(ModelStreamInferResponseSchema, create(ModelStreamInferResponseSchema, { inferResponse: RESPONSE }))));
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  },
);

server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
  if (err !== null) {
    process.stderr.write(`grpc-echo: cannot listen on ${host}:${port}: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port: bound, grpc: grpcVersion })}\n`);
});

function stop(): void {
  // open streams would keep the loop alive: exit now, nothing worth finishing is in flight
  server.forceShutdown();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
