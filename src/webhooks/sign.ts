/**
 * The signature of a webhook delivery. Each attempt is signed anew:
 *
 *   x-switchyard-timestamp: <unix seconds when the attempt was sent>
 *   x-switchyard-signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * A receiver recomputes the HMAC over the timestamp header, a ".", and the body bytes
 * exactly as received (before any JSON parsing), compares it in constant time, and refuses
 * a timestamp too far from its clock (5 minutes, say): a captured delivery cannot be
 * replayed later, and the timestamp cannot be changed without breaking the signature. A
 * retry carries the same event id (receivers deduplicate on it) with a fresh timestamp.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-switchyard-signature';
export const TIMESTAMP_HEADER = 'x-switchyard-timestamp';
const PREFIX = 'sha256=';

/** The signature header's value for `body` sent at `timestamp` (unix seconds). */
export function signatureOf(secret: string, timestamp: number, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return PREFIX + mac.digest('hex');
}

/**
 * Whether `signature` (the header's value) signs `body` at `timestamp` with `secret`, and
 * the timestamp lies within `toleranceS` of `nowS`. For receivers and tests.
 */
export function verifySignature(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string | Uint8Array,
  nowS: number = Math.floor(Date.now() / 1000),
  toleranceS = 300,
): boolean {
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  const ts = Number(timestamp);
  if (Math.abs(nowS - ts) > toleranceS) return false;
  const expected = Buffer.from(signatureOf(secret, ts, body));
  const got = Buffer.from(signature);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
