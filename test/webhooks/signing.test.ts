import { describe, expect, it } from 'vitest';
import { signatureOf, verifySignature } from '../../src/webhooks/index.js';

// computed independently of the code under test:
//   printf '1700000000.{"id":"0b7c","type":"canary.rolled_back"}' | openssl dgst -sha256 -hmac whsec_test
// (and with Python's hmac.new(b'whsec_test', b'1700000000.' + body, hashlib.sha256))
const BODY = '{"id":"0b7c","type":"canary.rolled_back"}';
const VECTOR = 'sha256=4939b1604472fcecd464674ae59f8f84d7ab49b1e1db477ba683b2bfe7613971';

describe('webhook signatures', () => {
  it('are HMAC-SHA256 over "<timestamp>.<raw body>", hex, with the sha256= prefix', () => {
    expect(signatureOf('whsec_test', 1700000000, BODY)).toBe(VECTOR);
    expect(signatureOf('whsec_test', 1700000000, Buffer.from(BODY))).toBe(VECTOR);
  });

  it('verify with the right secret, body and timestamp, within the tolerance', () => {
    expect(verifySignature('whsec_test', '1700000000', VECTOR, BODY, 1700000000)).toBe(true);
    expect(verifySignature('whsec_test', '1700000000', VECTOR, BODY, 1700000000 + 299)).toBe(true);
  });

  it('refuse a changed body, timestamp or secret, a stale timestamp, a missing header', () => {
    expect(verifySignature('whsec_test', '1700000000', VECTOR, BODY.replace('rolled_back', 'promoted'), 1700000000)).toBe(false);
    // the timestamp is part of the signed content: moving it forward to dodge the replay check breaks the signature
    expect(verifySignature('whsec_test', '1700000100', VECTOR, BODY, 1700000100)).toBe(false);
    expect(verifySignature('other', '1700000000', VECTOR, BODY, 1700000000)).toBe(false);
    expect(verifySignature('whsec_test', '1700000000', VECTOR, BODY, 1700000000 + 301)).toBe(false);
    expect(verifySignature('whsec_test', undefined, VECTOR, BODY, 1700000000)).toBe(false);
    expect(verifySignature('whsec_test', '1700000000', undefined, BODY, 1700000000)).toBe(false);
    expect(verifySignature('whsec_test', '1700000000', VECTOR.slice(0, -1), BODY, 1700000000)).toBe(false);
  });
});
