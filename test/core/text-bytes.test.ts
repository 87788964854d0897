import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8, holdsReplacementChar, untransportableText } from '../../src/core/index.js';

describe('text bytes', () => {
  it('finds no invalid byte in any well-formed UTF-8 (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const b = Buffer.from(s.replace(/\0/g, ''), 'utf8');
        expect(firstInvalidUtf8(b)).toBe(b.length);
        expect(untransportableText(b)).toBeNull();
      }),
    );
  });

  it('agrees with a UTF-8 round trip on where decoding first changes arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (b) => {
        const at = firstInvalidUtf8(b);
        const valid = Buffer.from(b.subarray(0, at)).toString('utf8');
        expect(Buffer.from(valid, 'utf8')).toEqual(Buffer.from(b.subarray(0, at)));
        if (at < b.length) expect(Buffer.from(Buffer.from(b).toString('utf8'), 'utf8').equals(Buffer.from(b))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('names a NUL before a bad sequence, and sees U+FFFD', () => {
    expect(untransportableText(Uint8Array.of(0x61, 0, 0xff))).toBe('holds a NUL byte at offset 1');
    expect(untransportableText(Uint8Array.of(0xf4, 0x90, 0x80, 0x80))).toBe('is not valid UTF-8 from byte offset 0');
    expect(holdsReplacementChar(Buffer.from('a\uFFFDb'))).toBe(true);
    expect(holdsReplacementChar(Buffer.from('abc'))).toBe(false);
  });
});
