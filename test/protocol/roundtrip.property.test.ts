import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DATATYPES,
  type Datatype,
  InferRequest,
  InferResponse,
  type RequestedOutput,
  Tensor,
  type TensorData,
  elementCount,
} from '../../src/core/index.js';
import { decodeInferRequest, encodeInferResponse } from '../../src/protocol/index.js';

type Mode = 'json' | 'binary' | 'base64';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Values of `dt` for `n` elements; in JSON, 64-bit integers are kept within ±(2^53 - 1). */
function valuesOf(dt: Datatype, n: number, mode: Mode): fc.Arbitrary<TensorData> {
  const ints = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: n, maxLength: n });
  const bigs = (min: bigint, max: bigint) => fc.array(fc.bigInt({ min, max }), { minLength: n, maxLength: n });
  // BYTES in JSON are UTF-8 text unless base64; other datatypes are JSON in both modes
  const json = mode !== 'binary';
  switch (dt) {
    case 'BOOL':
      return fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((a) => Uint8Array.from(a, (b) => (b ? 1 : 0)));
    case 'UINT8':
      return ints(0, 0xff).map((a) => Uint8Array.from(a));
    case 'UINT16':
      return ints(0, 0xffff).map((a) => Uint16Array.from(a));
    case 'UINT32':
      return ints(0, 0xffffffff).map((a) => Uint32Array.from(a));
    case 'INT8':
      return ints(-0x80, 0x7f).map((a) => Int8Array.from(a));
    case 'INT16':
      return ints(-0x8000, 0x7fff).map((a) => Int16Array.from(a));
    case 'INT32':
      return ints(-0x80000000, 0x7fffffff).map((a) => Int32Array.from(a));
    case 'UINT64':
      return bigs(0n, json ? MAX_SAFE : 2n ** 64n - 1n).map((a) => BigUint64Array.from(a));
    case 'INT64':
      return bigs(json ? -MAX_SAFE : -(2n ** 63n), json ? MAX_SAFE : 2n ** 63n - 1n).map((a) => BigInt64Array.from(a));
    case 'FP16':
      return ints(0, 0xffff).map((a) => Uint16Array.from(a));
    case 'FP32':
      return fc.array(fc.float(), { minLength: n, maxLength: n }).map((a) => Float32Array.from(a));
    case 'FP64':
      return fc.array(fc.double(), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a));
    case 'BYTES':
      return mode === 'json'
        ? fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: n, maxLength: n }).map((a) => a.map((s) => new TextEncoder().encode(s)))
        : fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: n, maxLength: n });
  }
}

const tensorCase = fc
  .record({
    dt: fc.constantFrom(...DATATYPES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    mode: fc.constantFrom<Mode>('json', 'binary', 'base64'),
  })
  .chain(({ dt, shape, mode }) => valuesOf(dt, elementCount(shape), mode).map((data) => ({ dt, shape, mode, data })));

const isNaNHalf = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

/** Exact equality: bytes for binary, Object.is per element for JSON (NaN halves are canonical there). */
function expectSameData(dt: Datatype, got: TensorData, want: TensorData, mode: Mode): void {
  expect(got.length).toBe(want.length);
  if (dt === 'BYTES') {
    expect((got as Uint8Array[]).map((b) => Array.from(b))).toEqual((want as Uint8Array[]).map((b) => Array.from(b)));
    return;
  }
  const g = got as ArrayLike<number | bigint>;
  const w = want as ArrayLike<number | bigint>;
  expect(got.constructor).toBe(want.constructor);
  for (let i = 0; i < w.length; i++) {
    if (dt === 'FP16' && mode !== 'binary' && isNaNHalf(w[i] as number)) {
      expect(isNaNHalf(g[i] as number)).toBe(true);
    } else if (!Object.is(g[i], w[i])) {
      expect.fail(`element ${i}: got ${String(g[i])}, want ${String(w[i])}`);
    }
  }
}

/** The response body with its JSON rewritten as a request: the outputs become the inputs. */
function responseAsRequest(body: Buffer, headerLength: number | null): { body: Uint8Array; headerLength: number | null } {
  const hl = headerLength ?? body.byteLength;
  const text = body.subarray(0, hl).toString('utf8');
  const at = text.indexOf(',"outputs":');
  const json = Buffer.from('{"inputs":' + text.slice(at + ',"outputs":'.length), 'utf8');
  const out = Buffer.concat([json, body.subarray(hl)]);
  return { body: out, headerLength: headerLength === null ? null : json.byteLength };
}

describe('property: encode → decode is exact', () => {
  it('for every datatype, shape and value, as JSON, binary and base64 BYTES', () => {
    fc.assert(
      fc.property(tensorCase, ({ dt, shape, mode, data }) => {
        const req = new InferRequest('m', null, [], 'rest', 0);
        const ro: RequestedOutput = { name: 't', binary: mode === 'binary', parameters: mode === 'base64' ? { content_type: 'base64' } : null };
        req.outputs = [ro];
        const enc = encodeInferResponse(new InferResponse('p', 'm', '1', [new Tensor('t', dt, shape.slice(), data)]), req);
        expect(enc.headerLength === null).toBe(mode !== 'binary');
        const back = responseAsRequest(enc.body, enc.headerLength);
        const t = decodeInferRequest(back.body, back.headerLength, 'm', null, 0).inputs[0];
        expect(t.name).toBe('t');
        expect(t.datatype).toBe(dt);
        expect(t.shape).toEqual(shape);
        expectSameData(dt, t.data, data, mode);
      }),
      { numRuns: 1000 },
    );
  });

  it('nested JSON data decodes to the same tensor as flat data', () => {
    const nest = (flat: unknown[], shape: number[]): unknown[] => {
      if (shape.length <= 1) return flat;
      const stride = flat.length / shape[0];
      return Array.from({ length: shape[0] }, (_, i) => nest(flat.slice(i * stride, (i + 1) * stride), shape.slice(1)));
    };
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
          fc.array(fc.integer({ min: -0x80000000, max: 0x7fffffff }), { minLength: elementCount(shape), maxLength: elementCount(shape) }).map((flat) => ({ shape, flat })),
        ),
        ({ shape, flat }) => {
          const dec = (data: unknown[]) =>
            decodeInferRequest(Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape, data }] })), null, 'm', null, 0).inputs[0].data;
          expect(dec(nest(flat, shape))).toEqual(dec(flat));
          expect(Array.from(dec(flat) as Int32Array)).toEqual(flat);
        },
      ),
    );
  });
});
