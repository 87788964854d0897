import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/core/index.js';
import { FRAME_PREFIX_BYTES, encodeBinaryFrame, encodeErrorMessage, readFrameHeaderLength } from '../../src/transport/ws/index.js';

describe('binary stream frames', () => {
  it('round-trip: the prefix is the little-endian JSON length, then the body as it was', () => {
    fc.assert(
      fc.property(fc.string(), fc.uint8Array({ maxLength: 300 }), (header, tensors) => {
        const json = Buffer.from(header, 'utf8');
        const body = Buffer.concat([json, tensors]);
        const frame = encodeBinaryFrame(body, json.byteLength);
        expect(frame.readUInt32LE(0)).toBe(json.byteLength);
        expect(readFrameHeaderLength(frame)).toBe(json.byteLength);
        expect(Buffer.from(frame.subarray(FRAME_PREFIX_BYTES)).equals(body)).toBe(true);
      }),
    );
  });

  it('reads lengths of 2^24 and more as unsigned', () => {
    const frame = new Uint8Array(FRAME_PREFIX_BYTES + 0x01020304);
    frame.set([0x04, 0x03, 0x02, 0x01]);
    expect(readFrameHeaderLength(frame)).toBe(0x01020304);
    const high = new Uint8Array(8);
    high.set([0xff, 0xff, 0xff, 0xff]);
    expect(() => readFrameHeaderLength(high)).toThrow(/JSON header length 4294967295 runs past the end of the frame \(4 bytes after the 4-byte length\)/);
  });

  it('refuses frames too short for the prefix, or whose header runs past the end', () => {
    for (const bad of [new Uint8Array(0), new Uint8Array(3)]) {
      let err: unknown = null;
      try {
        readFrameHeaderLength(bad);
      } catch (e) {
        err = e;
      }
      expect(isGatewayError(err) && err.code).toBe('SY_ERR_BAD_REQUEST');
      expect((err as Error).message).toBe(
        `binary frame of ${bad.byteLength} bytes is too short: expected a 4-byte little-endian JSON header length, the JSON header, then the tensor bytes`,
      );
    }
    const frame = encodeBinaryFrame(new Uint8Array(10), 10);
    frame.writeUInt32LE(11, 0);
    expect(() => readFrameHeaderLength(frame)).toThrow(/JSON header length 11 runs past the end of the frame \(10 bytes after/);
    // a header that takes the whole frame is fine (no tensors)
    frame.writeUInt32LE(10, 0);
    expect(readFrameHeaderLength(frame)).toBe(10);
  });
});

describe('stream error messages', () => {
  it('are JSON with the id (or null), the message and the code', () => {
    expect(JSON.parse(encodeErrorMessage('a"b', 'SY_ERR_QUEUE_FULL', 'queue "x" is full'))).toEqual({ id: 'a"b', error: 'queue "x" is full', code: 'SY_ERR_QUEUE_FULL' });
    expect(JSON.parse(encodeErrorMessage(null, 'SY_ERR_MALFORMED_JSON', 'malformed JSON: \n'))).toEqual({ id: null, error: 'malformed JSON: \n', code: 'SY_ERR_MALFORMED_JSON' });
  });
});
