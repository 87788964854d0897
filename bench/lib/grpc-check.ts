/**
 * One real gRPC call with the exact bytes h2load will send, before it sends them: h2load
 * counts HTTP status only, and a gRPC server answers errors (unknown model, bad tensor) with
 * HTTP 200 and grpc-status ≠ 0 in the trailers, which would read as a fast, error-free run.
 * The call goes over node:http2 (not grpc-js) so that the body file itself is what is checked:
 * its framing as well as its message.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { connect, constants } from 'node:http2';
import { ModelInferResponseSchema } from '../../src/gen/grpc_service_pb.js';

export interface GrpcAnswer {
  httpStatus: number;
  /** grpc-status from the trailers (or the headers, for a trailers-only answer); null when absent */
  grpcStatus: number | null;
  grpcMessage: string;
  /** the response message bytes (the frames' payloads), empty on an error */
  message: Buffer;
}

/** POSTs `body` (a framed gRPC message) to `path` on `address` (host:port, h2c). */
export function grpcCall(address: string, path: string, body: Buffer, headers: Readonly<Record<string, string>>, timeoutMs = 10_000): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`gRPC check: no answer from ${address}${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      session.destroy();
      reject(new Error(`gRPC check: ${address}${path}: ${e.message}`));
    };
    session.on('error', fail);
    const req = session.request({ [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: path, ...headers });
    let httpStatus = 0;
    let grpcStatus: number | null = null;
    let grpcMessage = '';
    const take = (h: Record<string, unknown>): void => {
      if (h['grpc-status'] !== undefined) grpcStatus = Number(h['grpc-status']);
      if (typeof h['grpc-message'] === 'string') grpcMessage = decodeURIComponent(h['grpc-message']);
    };
    req.on('response', (h) => {
      httpStatus = Number(h[constants.HTTP2_HEADER_STATUS]);
      take(h);
    });
    req.on('trailers', (h) => take(h));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', fail);
    req.on('end', () => {
      clearTimeout(timer);
      session.close();
      const framed = Buffer.concat(chunks);
      const parts: Buffer[] = [];
      for (let at = 0; at + 5 <= framed.length; ) {
        const n = framed.readUInt32BE(at + 1);
        parts.push(framed.subarray(at + 5, at + 5 + n));
        at += 5 + n;
      }
      resolve({ httpStatus, grpcStatus, grpcMessage, message: Buffer.concat(parts) });
    });
    req.end(body);
  });
}

/**
 * Throws, saying what came back, unless `body` is answered with HTTP 200, grpc-status 0 and a
 * ModelInferResponse that has outputs.
 */
export async function checkGrpcBody(caseId: string, address: string, path: string, body: Buffer, headers: Readonly<Record<string, string>>): Promise<void> {
  const a = await grpcCall(address, path, body, headers);
  let outputs = 0;
  if (a.grpcStatus === 0) {
    try {
      outputs = fromBinary(ModelInferResponseSchema, a.message).outputs.length;
    } catch {
      // reported below
    }
  }
  if (a.httpStatus !== 200 || a.grpcStatus !== 0 || outputs === 0) {
    throw new Error(
      `${caseId}: the gRPC body h2load would send to ${address}${path} was answered HTTP ${a.httpStatus}, grpc-status ${a.grpcStatus ?? 'missing'}` +
        `${a.grpcMessage === '' ? '' : ` (${a.grpcMessage})`}${a.grpcStatus === 0 ? `, ${outputs} outputs` : ''} — expected HTTP 200, grpc-status 0 and a ModelInferResponse with outputs. h2load would count these answers as successes.`,
    );
  }
}
