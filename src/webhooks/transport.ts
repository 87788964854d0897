/**
 * One HTTP POST of a delivery attempt, with undici. The answer's status and Retry-After
 * are all the sender reads; the body is discarded. A network error, a timeout or an abort
 * rejects.
 */
import { request } from 'undici';

export interface PostAnswer {
  readonly status: number;
  /** the Retry-After header as sent, or undefined */
  readonly retryAfter: string | undefined;
}

/** Sends `body` to `url` with `headers`; rejects on a network error, after `timeoutMs`, or when `signal` aborts. */
export type Transport = (url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal) => Promise<PostAnswer>;

export const undiciTransport: Transport = async (url, headers, body, timeoutMs, signal) => {
  const res = await request(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  // the body is not read, only drained so that the connection can be reused
  await res.body.dump().catch(() => undefined);
  const ra = res.headers['retry-after'];
  return { status: res.statusCode, retryAfter: Array.isArray(ra) ? ra[0] : ra };
};
