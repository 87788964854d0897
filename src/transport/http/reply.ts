import type { HttpResponse } from './uws.js';
import { GatewayError, toGatewayError } from '../../core/errors.js';
import { MIN_COMPRESS_BYTES, encodeBody, type Coding } from './compression.js';

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  204: '204 No Content',
  409: '409 Conflict',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  429: '429 Too Many Requests',
  499: '499 Client Closed Request',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
  504: '504 Gateway Timeout',
};

/** Characters a header value may hold as they are: tab and visible ASCII. */
const UNSAFE_IN_HEADER = /[^\t\x20-\x7e]/;

/**
 * A value safe to write into a response header. Values that come from the client (the
 * request id) may hold CR/LF, which written raw would end the header and let the client
 * forge headers or a whole response (response splitting); such characters, and any other
 * outside visible ASCII, are percent-encoded as UTF-8 (`a\r\nb` → `a%0D%0Ab`). `%` itself is
 * kept, so a safe value is unchanged.
 */
export function headerValue(v: string): string {
  if (!UNSAFE_IN_HEADER.test(v)) return v;
  let out = '';
  for (const ch of v) {
    if (!UNSAFE_IN_HEADER.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function statusLine(code: number): string {
  return STATUS_TEXT[code] ?? `${code} Status`;
}

/**
 * One HTTP exchange. uWS rule: onAborted is attached before any async work, and every write
 * after the first callback returns is corked. `aborted` tells late writers the client is gone.
 */
export class Exchange {
  readonly res: HttpResponse;
  aborted = false;
  /** called once if the client goes away before the response is written */
  onAbort: (() => void) | null = null;
  /** called once with the error, when one is answered (an inference the gateway never saw is counted through it) */
  onError: ((err: GatewayError) => void) | null = null;
  /** the coding the client accepts for `sendCompressible` (from Accept-Encoding), or null */
  coding: Coding | null = null;

  constructor(res: HttpResponse) {
    this.res = res;
    res.onAborted(() => {
      this.aborted = true;
      const cb = this.onAbort;
      this.onAbort = null;
      if (cb !== null) cb();
    });
  }

  /** Writes a complete response, respecting backpressure for large bodies. */
  send(status: number, contentType: string, body: string | Uint8Array, headers: readonly (readonly [string, string])[] | null = null, close = false): void {
    if (this.aborted) return;
    this.onAbort = null;
    const res = this.res;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      res.writeHeader('content-type', contentType);
      if (headers !== null) for (const [k, v] of headers) res.writeHeader(k, headerValue(v));
      if (close || typeof body === 'string' || body.byteLength < 65536) {
        res.end(body, close);
        return;
      }
      streamBody(res, body);
    });
  }

  /**
   * Like send, but compressed with `coding` when the client accepts one and the body is worth
   * it (MIN_COMPRESS_BYTES). Headers that describe the body (Inference-Header-Content-Length)
   * keep describing the uncompressed bytes, as Triton's server does and tritonclient expects.
   */
  sendCompressible(status: number, contentType: string, body: string | Uint8Array, headers: [string, string][]): void {
    const coding = this.coding;
    // a string's length undercounts its UTF-8 bytes, which is good enough for a threshold
    if (coding === null || (typeof body === 'string' ? body.length : body.byteLength) < MIN_COMPRESS_BYTES) {
      this.send(status, contentType, body, headers);
      return;
    }
    encodeBody(body, coding, (out) => {
      if (out !== null) headers.push(['content-encoding', coding], ['vary', 'accept-encoding']);
      this.send(status, contentType, out ?? body, headers);
    });
  }

  /** Answers `value` as JSON; one that cannot be written (too deep, a cycle) is a 500, never a throw. */
  json(status: number, value: unknown, headers: readonly (readonly [string, string])[] | null = null): void {
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      this.error(new GatewayError('SY_ERR_INTERNAL', `the answer could not be written as JSON (${e instanceof Error ? e.message : String(e)})`));
      return;
    }
    this.send(status, 'application/json', text, headers);
  }

  /**
   * The error body every endpoint uses: {"error": "...", "code": "SY_ERR_..."} with the
   * registry's status, the code also in the `x-switchyard-error` header.
   */
  error(e: unknown, requestId: string | null = null, close = false, extraHeaders: readonly [string, string][] = []): GatewayError {
    const err = toGatewayError(e);
    const counted = this.onError;
    this.onError = null;
    if (counted !== null) counted(err);
    const headers: [string, string][] = [['x-switchyard-error', err.code]];
    if (err.retryAfterS !== null) headers.push(['retry-after', String(err.retryAfterS)]);
    if (requestId !== null && requestId !== '') headers.push(['x-request-id', requestId]);
    headers.push(...extraHeaders);
    // a draining gateway closes each connection with its 503, so clients reconnect elsewhere
    this.send(err.httpStatus, 'application/json', JSON.stringify({ error: err.message, code: err.code }), headers, close || err.code === 'SY_ERR_DRAINING');
    return err;
  }
}

function streamBody(res: HttpResponse, body: Uint8Array): void {
  const start = res.getWriteOffset();
  const [ok, done] = res.tryEnd(body, body.byteLength);
  if (ok || done) return;
  res.onWritable((offset) => {
    const [ok2] = res.tryEnd(body.subarray(offset - start), body.byteLength);
    return ok2;
  });
}
