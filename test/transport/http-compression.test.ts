import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/index.js';
import { decodeBody, requestCoding, responseCoding, type Coding } from '../../src/transport/http/compression.js';

function decoded(body: Buffer, coding: Coding, limit: number): Promise<{ err: GatewayError | null; out: Buffer }> {
  return new Promise((resolve) => decodeBody(body, coding, limit, (err, out) => resolve({ err, out })));
}

describe('requestCoding (Content-Encoding)', () => {
  it('gzip, x-gzip and deflate, any case; none or identity means nothing to undo', () => {
    expect(requestCoding('')).toBeNull();
    expect(requestCoding('identity')).toBeNull();
    expect(requestCoding('GZIP')).toBe('gzip');
    expect(requestCoding('x-gzip')).toBe('gzip');
    expect(requestCoding(' deflate ')).toBe('deflate');
    expect(requestCoding('identity, gzip')).toBe('gzip');
  });

  it('anything else is a 415 naming what is supported', () => {
    for (const h of ['br', 'zstd', 'gzip, deflate', 'compress']) {
      let err: unknown = null;
      try {
        requestCoding(h);
      } catch (e) {
        err = e;
      }
      expect(err, h).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).httpStatus).toBe(415);
      expect((err as GatewayError).message).toMatch(/gzip or deflate/);
    }
  });
});

describe('responseCoding (Accept-Encoding)', () => {
  it('picks the accepted coding with the highest q, gzip on ties and for *', () => {
    expect(responseCoding('')).toBeNull();
    expect(responseCoding('gzip')).toBe('gzip');
    expect(responseCoding('deflate')).toBe('deflate');
    expect(responseCoding('gzip, deflate, br')).toBe('gzip');
    expect(responseCoding('gzip;q=0.5, deflate;q=0.8')).toBe('deflate');
    expect(responseCoding('*')).toBe('gzip');
    expect(responseCoding('br, identity')).toBeNull();
    expect(responseCoding('gzip;q=0, deflate;q=0')).toBeNull();
    expect(responseCoding('*;q=0, deflate')).toBe('deflate');
  });
});

describe('decodeBody', () => {
  const text = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', data: Array.from({ length: 500 }, (_, i) => i) }] }));

  it('undoes gzip, deflate (zlib) and raw deflate', async () => {
    for (const [coding, bytes] of [
      ['gzip', gzipSync(text)],
      ['deflate', deflateSync(text)],
      ['deflate', deflateRawSync(text)],
    ] as const) {
      const { err, out } = await decoded(bytes, coding, 1 << 20);
      expect(err).toBeNull();
      expect(out.equals(text)).toBe(true);
    }
  });

  it('stops at the limit: a small bomb is a 413 that never holds the whole output', async () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20));
    expect(bomb.byteLength).toBeLessThan(100_000);
    const before = process.memoryUsage().arrayBuffers;
    const { err } = await decoded(bomb, 'gzip', 1 << 20);
    expect(err?.httpStatus).toBe(413);
    expect(err?.message).toMatch(/decompresses \(Content-Encoding: gzip\) to more than the limit of 1048576 bytes \(http.max_body_bytes\)/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
    // exactly the limit is fine
    const { err: atLimit, out } = await decoded(gzipSync(Buffer.alloc(1000)), 'gzip', 1000);
    expect(atLimit).toBeNull();
    expect(out.byteLength).toBe(1000);
  });

  it('corrupt or truncated data is a 400 saying it is not valid gzip/deflate', async () => {
    const gz = gzipSync(text);
    for (const [coding, bytes] of [
      ['gzip', Buffer.from('not gzip at all')],
      ['gzip', gz.subarray(0, gz.byteLength - 10)],
      ['deflate', Buffer.from([0x78, 0x9c, 1, 2, 3, 4, 5])],
    ] as const) {
      const { err } = await decoded(bytes, coding, 1 << 20);
      expect(err?.httpStatus, coding).toBe(400);
      expect(err?.message).toMatch(new RegExp(`^request body is not valid ${coding} data`));
    }
  });

  it('an empty body stays empty', async () => {
    const { err, out } = await decoded(Buffer.alloc(0), 'gzip', 10);
    expect(err).toBeNull();
    expect(out.byteLength).toBe(0);
  });
});
