import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFeature, splitCsvLine } from '../../src/features/index.js';

describe('feature values parsed to the view dtype', () => {
  it('reads decimal text, JSON numbers and booleans as floats (FP32 rounded to float32)', () => {
    expect(parseFeature('FP64', ' 0.1 ')).toBe(0.1);
    expect(parseFeature('FP32', '0.1')).toBe(Math.fround(0.1));
    expect(parseFeature('FP32', 2.5)).toBe(2.5);
    expect(parseFeature('FP64', true)).toBe(1);
    expect(parseFeature('FP64', '-1e3')).toBe(-1000);
  });

  it('calls text that is not a number unparsable', () => {
    for (const bad of ['', 'abc', '1.2.3', '0x10', 'NaN', '12abc']) expect(parseFeature('FP32', bad)).toBeNull();
  });

  it('takes integers only for integer types, within their range', () => {
    expect(parseFeature('INT32', '42')).toBe(42);
    expect(parseFeature('INT32', '3.0')).toBe(3);
    expect(parseFeature('INT32', '3.5')).toBeNull();
    expect(parseFeature('INT8', '128')).toBeNull();
    expect(parseFeature('UINT8', '-1')).toBeNull();
    expect(parseFeature('UINT16', 65535)).toBe(65535);
  });

  it('keeps INT64 exact beyond 2^53 as bigints', () => {
    expect(parseFeature('INT64', '9007199254740993')).toBe(9007199254740993n);
    expect(parseFeature('INT64', '9223372036854775808')).toBeNull();
    expect(parseFeature('UINT64', '18446744073709551615')).toBe(18446744073709551615n);
    expect(parseFeature('INT64', 7n)).toBe(7n);
  });

  it('reads BOOL from true/false/1/0', () => {
    expect(parseFeature('BOOL', 'TRUE')).toBe(1);
    expect(parseFeature('BOOL', '0')).toBe(0);
    expect(parseFeature('BOOL', false)).toBe(0);
    expect(parseFeature('BOOL', 'yes')).toBeNull();
    expect(parseFeature('BOOL', 2)).toBeNull();
  });

  it('parses back every double written as text (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (d) => {
        expect(parseFeature('FP64', String(d))).toBe(d === 0 ? 0 : d);
      }),
    );
  });

  it('parses back every int64 written as text (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (b) => {
        expect(parseFeature('INT64', b.toString())).toBe(b);
      }),
    );
  });
});

describe('CSV lines', () => {
  it('splits plain and quoted cells', () => {
    expect(splitCsvLine('a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(splitCsvLine('"x, y","say ""hi""",3')).toEqual(['x, y', 'say "hi"', '3']);
    expect(splitCsvLine('"open,1')).toBeNull();
  });
});
