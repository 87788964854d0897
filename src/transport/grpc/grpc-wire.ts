/**
 * The pieces of the gRPC-over-HTTP/2 wire format the server needs (see
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): the length prefix of
 * messages, the grpc-timeout header, the percent-encoding of grpc-message, status trailers,
 * and the status codes the server itself answers with. Texts of the errors the transport
 * raises are grpc-js's, so clients and tests see the same words as before.
 */
import { constants } from 'node:http2';

/** gRPC status codes the transport itself answers with (the rest come from the error registry). */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** How a call ends: a status code, its message, and trailing metadata (ASCII values). */
export interface CallStatus {
  code: number;
  details: string;
  metadata: Readonly<Record<string, string>> | null;
}

export const PREFIX_BYTES = 5;

/** `payload` behind the 5-byte prefix (uncompressed flag, big-endian length), in one buffer. */
export function frame(payload: Uint8Array): Buffer {
  const n = payload.byteLength;
  const out = Buffer.allocUnsafe(PREFIX_BYTES + n);
  out[0] = 0;
  out.writeUInt32BE(n, 1);
  out.set(payload, PREFIX_BYTES);
  return out;
}

const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** The grpc-timeout header in milliseconds, or NaN when it is not one (grpc-js's reading). */
export function parseTimeout(value: string): number {
  const m = TIMEOUT.exec(value);
  if (m === null) return NaN;
  return (Number(m[1]) * UNIT_MS[m[2]]) | 0;
}

/**
 * grpc-message as the spec says: UTF-8, with '%' and bytes outside 0x20–0x7E
 * percent-encoded. Clients decode it (grpc-js with decodeURI, grpc core byte by byte).
 */
export function encodeGrpcMessage(details: string): string {
  let plain = true;
  for (let i = 0; i < details.length; i++) {
    const c = details.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return details;
  let out = '';
  for (const b of Buffer.from(details, 'utf8')) {
    out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}` : String.fromCharCode(b);
  }
  return out;
}

const { HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE } = constants;
const CONTENT_TYPE = 'application/grpc+proto';

/** Response headers of every call that answers with messages (grpc-js's: no response compression). */
export const RESPONSE_HEADERS = Object.freeze({
  [HTTP2_HEADER_STATUS]: 200,
  [HTTP2_HEADER_CONTENT_TYPE]: CONTENT_TYPE,
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
});

export const OK_TRAILERS = Object.freeze({ 'grpc-status': '0', 'grpc-message': 'OK' });

/** Trailers that end a call with `status` after its response headers. */
export function statusTrailers(status: CallStatus): Record<string, string> {
  const out: Record<string, string> = { 'grpc-status': String(status.code), 'grpc-message': encodeGrpcMessage(status.details) };
  if (status.metadata !== null) Object.assign(out, status.metadata);
  return out;
}

/** A trailers-only response: headers that carry the status and end the stream. */
export function trailersOnly(status: CallStatus): Record<string, string | number> {
  const out: Record<string, string | number> = { [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: CONTENT_TYPE };
  return Object.assign(out, statusTrailers(status));
}
