import { GatewayError, toGatewayError } from '../../core/errors.js';
import { decodeBody, requestCoding, type Coding } from './compression.js';
import type { HttpRequest } from './uws.js';
import type { Exchange } from './reply.js';

/** What contentLengthOf answers for a request with Content-Length headers that disagree. */
export const CONFLICTING_CONTENT_LENGTH = 'conflicting';

/**
 * The request's Content-Length as readBody takes it. uWS frames the body by the first
 * Content-Length header and getHeader shows only that one; a proxy in front may have used
 * another, which is how requests are smuggled past it. So every header is looked at, and
 * two that disagree give CONFLICTING_CONTENT_LENGTH: readBody answers 400 and closes.
 */
export function contentLengthOf(req: HttpRequest): string {
  let first: string | null = null;
  let conflict = false;
  req.forEach((k, v) => {
    if (k !== 'content-length') return;
    if (first === null) first = v;
    else if (v.trim() !== first.trim()) conflict = true;
  });
  return conflict ? CONFLICTING_CONTENT_LENGTH : (first ?? '');
}

/**
 * Reads a request body, enforcing the size limit while reading: a declared Content-Length
 * over the limit is refused before any byte is read, a stream that grows past it is cut off
 * at once, and both close the connection (the rest of the body is never read).
 * uWS reuses the chunk buffers, so every chunk is copied. `contentEncoding` is the request's
 * Content-Encoding header ('' when absent: the body goes to `done` as read, at no extra cost).
 */
export function readBody(ex: Exchange, contentLength: string, limit: number, done: (body: Buffer) => void, contentEncoding = '', budget: BodyBudget | null = null): void {
  if (contentEncoding !== '') {
    readEncoded(ex, contentLength, limit, done, contentEncoding, budget);
    return;
  }
  readRaw(ex, contentLength, limit, done, budget);
}

/**
 * Bytes of request bodies being read at once, over every connection: http.max_body_bytes
 * bounds one body, this bounds them all (30 unfinished 60 MiB uploads once took RSS from 300
 * MB to 2 GB). A body is charged when its Content-Length is declared (its buffer is allocated
 * then) or as its chunks arrive, and released once read or abandoned; one that does not fit
 * is refused with 429 before it is read.
 */
export class BodyBudget {
  used = 0;
  constructor(readonly limit: number) {}

  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used -= n;
  }

  refusal(n: number): GatewayError {
    return new GatewayError(
      'SY_ERR_QUEUE_FULL',
      `request bodies being read take ${this.used} of the ${this.limit} bytes allowed at once (http.max_inflight_body_bytes); this one needs ${n} more; retry shortly`,
      { retryAfterS: 1 },
    );
  }
}

/** Charges `n` more bytes of one body to `budget`; releases everything charged once, on done or abort. */
class Charge {
  private held = 0;
  private readonly ex: Exchange;
  private readonly budget: BodyBudget | null;
  constructor(ex: Exchange, budget: BodyBudget | null) {
    this.ex = ex;
    this.budget = budget;
    if (budget !== null) ex.onAbort = () => this.release();
  }

  /** false (and the 429 answered) when the bytes do not fit */
  take(n: number): boolean {
    if (this.budget === null) return true;
    if (!this.budget.take(n)) {
      this.release();
      this.ex.error(this.budget.refusal(n), null, true);
      this.ex.aborted = true;
      return false;
    }
    this.held += n;
    return true;
  }

  release(): void {
    if (this.budget !== null && this.held > 0) this.budget.give(this.held);
    this.held = 0;
    if (this.budget !== null && !this.ex.aborted) this.ex.onAbort = null;
  }
}

/**
 * A body sent with a Content-Encoding: read as it came (the limit applies to the compressed
 * bytes), then decompressed off the event loop with the same limit on its decoded size. An
 * unsupported coding answers 415 once the body is read, so the connection stays usable.
 */
function readEncoded(ex: Exchange, contentLength: string, limit: number, done: (body: Buffer) => void, contentEncoding: string, budget: BodyBudget | null): void {
  let coding: Coding | null = null;
  let refused: GatewayError | null = null;
  try {
    coding = requestCoding(contentEncoding);
  } catch (e) {
    refused = toGatewayError(e);
  }
  readRaw(ex, contentLength, limit, (body) => {
    if (refused !== null) {
      ex.error(refused);
      return;
    }
    if (coding === null) {
      done(body);
      return;
    }
    decodeBody(body, coding, limit, (err, decoded) => {
      if (ex.aborted) return;
      if (err !== null) ex.error(err);
      else done(decoded);
    });
  }, budget);
}

function readRaw(ex: Exchange, contentLength: string, limit: number, done: (body: Buffer) => void, budget: BodyBudget | null): void {
  if (contentLength === CONFLICTING_CONTENT_LENGTH) {
    ex.error(new GatewayError('SY_ERR_BAD_REQUEST', 'the request has Content-Length headers that disagree; send exactly one'), null, true);
    return;
  }
  const declared = contentLength === '' ? -1 : Number(contentLength);
  if (declared > limit) {
    ex.error(tooLarge(declared, limit), null, true);
    return;
  }
  const charge = new Charge(ex, budget);
  if (declared >= 0 && Number.isInteger(declared)) {
    if (!charge.take(declared)) return;
    const body = Buffer.allocUnsafe(declared);
    let at = 0;
    ex.res.onData((chunk, isLast) => {
      if (ex.aborted) return;
      const n = chunk.byteLength;
      if (at + n > declared) {
        charge.release();
        ex.error(new GatewayError('SY_ERR_BAD_REQUEST', `body is longer than its Content-Length (${declared} bytes)`), null, true);
        ex.aborted = true;
        return;
      }
      body.set(new Uint8Array(chunk), at);
      at += n;
      if (isLast) {
        charge.release();
        done(at === declared ? body : body.subarray(0, at));
      }
    });
    return;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  ex.res.onData((chunk, isLast) => {
    if (ex.aborted) return;
    total += chunk.byteLength;
    if (total > limit) {
      charge.release();
      ex.error(tooLarge(total, limit), null, true);
      ex.aborted = true;
      return;
    }
    if (!charge.take(chunk.byteLength)) return;
    chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) {
      charge.release();
      done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    }
  });
}

function tooLarge(size: number, limit: number): GatewayError {
  return new GatewayError(
    'SY_ERR_BODY_TOO_LARGE',
    `request body of ${size} bytes is over the limit of ${limit} bytes (http.max_body_bytes); send smaller batches or raise the limit`,
  );
}
