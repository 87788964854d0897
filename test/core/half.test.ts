import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from '../../src/core/index.js';

const isNaNHalf = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

/** Every finite non-negative half, by bits; values rise with the bits. */
const POSITIVE = Array.from({ length: 0x7c00 }, (_, h) => fromHalf(h));

/** Round-to-nearest-even into binary16 by search over all halves: the reference for toHalf. */
function referenceHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // 65504 + half an ulp (16) and above round to infinity
  let lo = 0;
  let hi = POSITIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (POSITIVE[mid] <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo === POSITIVE.length - 1) return sign | lo;
  const below = a - POSITIVE[lo];
  const above = POSITIVE[lo + 1] - a;
  if (below < above) return sign | lo;
  if (above < below) return sign | (lo + 1);
  return sign | (lo % 2 === 0 ? lo : lo + 1);
}

describe('FP16 conversion (toHalf/fromHalf)', () => {
  it('fromHalf then toHalf gives every half back bit for bit (NaN stays NaN)', () => {
    for (let h = 0; h <= 0xffff; h++) {
      const back = toHalf(fromHalf(h));
      if (isNaNHalf(h)) expect(isNaNHalf(back)).toBe(true);
      else if (back !== h) expect.fail(`half 0x${h.toString(16)} came back as 0x${back.toString(16)}`);
    }
  });

  it('fromHalf decodes the landmarks', () => {
    expect(fromHalf(0x3c00)).toBe(1);
    expect(fromHalf(0xc000)).toBe(-2);
    expect(fromHalf(0x7bff)).toBe(65504);
    expect(fromHalf(0x0400)).toBe(2 ** -14);
    expect(fromHalf(0x0001)).toBe(2 ** -24);
    expect(Object.is(fromHalf(0x8000), -0)).toBe(true);
    expect(fromHalf(0x7c00)).toBe(Infinity);
    expect(fromHalf(0xfc00)).toBe(-Infinity);
    expect(fromHalf(0x7e00)).toBeNaN();
  });

  it('toHalf rounds every FP32 value to the nearest half, ties to even', () => {
    fc.assert(
      fc.property(fc.float(), (x) => {
        const got = toHalf(x);
        if (Number.isNaN(x)) expect(isNaNHalf(got)).toBe(true);
        else expect(got).toBe(referenceHalf(x));
      }),
      { numRuns: 20_000 },
    );
  });

  it('toHalf rounds values in the half range, around ties and at the subnormal edge', () => {
    const nearHalves = fc.integer({ min: 0, max: 0x7bff }).chain((h) =>
      fc.tuple(fc.constant(fromHalf(h)), fc.constantFrom(-1, -0.5, 0, 0.5, 1), fc.boolean()).map(([v, frac, neg]) => {
        // a point a fraction of an ulp away from a half (±0.5 is a tie), as an FP32 value
        const ulp = h < 0x0400 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(v)) - 10);
        const x = Math.fround(v + frac * ulp);
        return neg ? -x : x;
      }),
    );
    fc.assert(
      fc.property(nearHalves, (x) => {
        expect(toHalf(x)).toBe(referenceHalf(x));
      }),
      { numRuns: 20_000 },
    );
  });

  it('overflow goes to infinity, underflow to signed zero', () => {
    expect(toHalf(65519)).toBe(0x7bff);
    expect(toHalf(65520)).toBe(0x7c00);
    expect(toHalf(-1e10)).toBe(0xfc00);
    expect(toHalf(2 ** -26)).toBe(0);
    expect(toHalf(-(2 ** -26))).toBe(0x8000);
    expect(toHalf(2 ** -25 * 1.5)).toBe(0x0001);
  });
});

describe('toHalf from float64', () => {
  it('rounds once, straight from float64 (no double rounding through float32)', () => {
    // 1 + 2^-11 is a tie between 0x3c00 and 0x3c01; the extra 2^-40 breaks it upward
    expect(toHalf(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // exact tie → even
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(65519.99)).toBe(0x7bff);
    expect(toHalf(65520)).toBe(0x7c00);
    expect(toHalf(2 ** -24)).toBe(1);
    expect(toHalf(2 ** -25)).toBe(0); // tie → even (0)
    expect(toHalf(2 ** -25 + 2 ** -60)).toBe(1);
    expect(toHalf(-0)).toBe(0x8000);
  });
});
