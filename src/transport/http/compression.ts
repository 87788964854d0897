/**
 * HTTP content codings of the infer endpoints, as Triton's HTTP server and tritonclient use
 * them (`request_compression_algorithm=` / `response_compression_algorithm=`): gzip and
 * deflate (the zlib format, RFC 9110; a raw deflate stream is taken too, as browsers do).
 *
 * Both directions run on libuv's thread pool (zlib's async convenience functions), never on
 * the event loop, and only when asked: a request without Content-Encoding and a response to
 * a client that sends no Accept-Encoding never reach this file.
 */
import { constants, deflate, gunzip, gzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import { GatewayError } from '../../core/errors.js';

export type Coding = 'gzip' | 'deflate';

const SUPPORTED = 'gzip or deflate';

/**
 * Responses smaller than this go uncompressed even when the client accepts gzip/deflate: a
 * body under ~1 KiB fits one TCP segment either way, so compressing it costs CPU and saves
 * no round trip. tritonclient (http and http.aio) reads the Content-Encoding of each
 * response and decodes only when it is set, so an uncompressed answer is always understood.
 */
export const MIN_COMPRESS_BYTES = 1024;

/**
 * zlib level of compressed responses. bench/micro/http-compression.ts (Node 20, an 80 kB JSON
 * FP32 tensor): level 1 writes 38.3 kB in 784 µs, the default level 6 37.0 kB in 2157 µs; on
 * binary floats both save under 9%. The client asked for fewer bytes on the wire, not for the
 * smallest possible body at almost three times the CPU.
 */
const RESPONSE_LEVEL = 1;

/**
 * The coding to undo for a request's Content-Encoding header: null for none or `identity`.
 * Throws SY_ERR_UNSUPPORTED_MEDIA (415) for any other coding, or for more than one.
 */
export function requestCoding(header: string): Coding | null {
  if (header === '') return null;
  let found: Coding | null = null;
  for (const part of header.split(',')) {
    const c = part.trim().toLowerCase();
    if (c === '' || c === 'identity') continue;
    const coding: Coding | null = c === 'gzip' || c === 'x-gzip' ? 'gzip' : c === 'deflate' ? 'deflate' : null;
    if (coding === null) {
      throw new GatewayError(
        'SY_ERR_UNSUPPORTED_MEDIA',
        `Content-Encoding ${JSON.stringify(c.slice(0, 40))} is not supported; send the body uncompressed, or compressed with ${SUPPORTED}`,
      );
    }
    if (found !== null) {
      throw new GatewayError('SY_ERR_UNSUPPORTED_MEDIA', `Content-Encoding ${JSON.stringify(header.slice(0, 80))} applies more than one coding; send one of ${SUPPORTED}`);
    }
    found = coding;
  }
  return found;
}

/**
 * The coding to answer with for an Accept-Encoding header (RFC 9110 §12.5.3): the accepted
 * one of gzip and deflate with the highest q-value (gzip on a tie, and for `*`), or null when
 * the header is absent or accepts neither.
 */
export function responseCoding(header: string): Coding | null {
  if (header === '') return null;
  let gzipQ = -1;
  let deflateQ = -1;
  let anyQ = -1;
  for (const part of header.split(',')) {
    const semi = part.indexOf(';');
    const name = (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase();
    const q = semi < 0 ? 1 : qValue(part.slice(semi + 1));
    if (name === 'gzip' || name === 'x-gzip') gzipQ = Math.max(gzipQ, q);
    else if (name === 'deflate') deflateQ = Math.max(deflateQ, q);
    else if (name === '*') anyQ = q;
  }
  if (gzipQ < 0) gzipQ = anyQ;
  if (deflateQ < 0) deflateQ = anyQ;
  if (gzipQ <= 0 && deflateQ <= 0) return null;
  return gzipQ >= deflateQ ? 'gzip' : 'deflate';
}

function qValue(params: string): number {
  for (const p of params.split(';')) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const q = Number(p.slice(eq + 1).trim());
    return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
  }
  return 1;
}

/** A zlib stream starts with CMF/FLG: deflate method (8) and a header checksum divisible by 31. */
function isZlibHeader(b: Uint8Array): boolean {
  return b.byteLength >= 2 && (b[0] & 0x0f) === 8 && ((b[0] << 8) | b[1]) % 31 === 0;
}

/**
 * Decompresses a request body, stopping as soon as the output would pass `limit` bytes (so a
 * small "zip bomb" costs at most `limit` bytes of memory, never its full size): 413 then, 400
 * for data that is not valid `coding`. An empty body stays empty.
 */
export function decodeBody(body: Buffer, coding: Coding, limit: number, done: (err: GatewayError | null, out: Buffer) => void): void {
  if (body.byteLength === 0) {
    done(null, body);
    return;
  }
  const opts: ZlibOptions = { maxOutputLength: Math.max(1, limit) };
  const cb = (err: Error | null, out: Buffer): void => {
    if (err === null) {
      done(null, out);
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      done(
        new GatewayError(
          'SY_ERR_BODY_TOO_LARGE',
          `request body decompresses (Content-Encoding: ${coding}) to more than the limit of ${limit} bytes (http.max_body_bytes); send smaller batches or raise the limit`,
        ),
        body,
      );
      return;
    }
    done(
      new GatewayError(
        'SY_ERR_BAD_REQUEST',
        `request body is not valid ${coding} data (Content-Encoding: ${coding}): ${err.message}; send it compressed with ${coding}, or uncompressed without Content-Encoding`,
      ),
      body,
    );
  };
  if (coding === 'gzip') gunzip(body, opts, cb);
  else if (isZlibHeader(body)) inflate(body, opts, cb);
  else inflateRaw(body, opts, cb);
}

/** Compresses a response body; on failure (never expected) hands back null, so the caller sends it as it is. */
export function encodeBody(body: string | Uint8Array, coding: Coding, done: (out: Buffer | null) => void): void {
  const opts: ZlibOptions = { level: RESPONSE_LEVEL, strategy: constants.Z_DEFAULT_STRATEGY };
  const cb = (err: Error | null, out: Buffer): void => done(err === null ? out : null);
  if (coding === 'gzip') gzip(body, opts, cb);
  else deflate(body, opts, cb);
}
