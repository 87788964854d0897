import { describe, expect, it } from 'vitest';
import { GatewayError, InferRequest, InferResponse, Tensor, toHalf } from '../../src/core/index.js';
import { decodeInferRequest, encodeInferResponse } from '../../src/protocol/index.js';
import {
  type ClientInput,
  buildTritonRequest,
  deserializeByteTensor,
  rawBytes,
  readTritonResponse,
  serializeByteTensor,
} from './triton-client.js';

function decodeClient(inputs: ClientInput[], outputs: { name: string; binary_data: boolean }[] | null = []): InferRequest {
  const { body, headerLength } = buildTritonRequest(inputs, outputs);
  return decodeInferRequest(body, headerLength, 'm', null, 0);
}

function expectInvalid(fn: () => unknown, message: string): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(GatewayError);
  expect((err as GatewayError).code).toBe('SY_ERR_INVALID_INPUT');
  expect((err as GatewayError).message).toBe(message);
}

/** A body of `json` (padded with spaces to `jsonLength` bytes) followed by `bin`. */
function rawBody(json: unknown, bin: Uint8Array, jsonLength?: number): { body: Uint8Array; headerLength: number } {
  let text = JSON.stringify(json);
  if (jsonLength !== undefined) text = text.padEnd(jsonLength, ' ');
  const head = new TextEncoder().encode(text);
  const body = new Uint8Array(head.byteLength + bin.byteLength);
  body.set(head);
  body.set(bin, head.byteLength);
  return { body, headerLength: head.byteLength };
}

const FIXED = [
  ['BOOL', new Uint8Array([1, 0, 1, 1])],
  ['UINT8', new Uint8Array([0, 1, 254, 255])],
  ['UINT16', new Uint16Array([0, 1, 65534, 65535])],
  ['UINT32', new Uint32Array([0, 1, 2 ** 32 - 2, 2 ** 32 - 1])],
  ['UINT64', new BigUint64Array([0n, 1n, 2n ** 64n - 2n, 2n ** 64n - 1n])],
  ['INT8', new Int8Array([-128, -1, 0, 127])],
  ['INT16', new Int16Array([-32768, -1, 0, 32767])],
  ['INT32', new Int32Array([-(2 ** 31), -1, 0, 2 ** 31 - 1])],
  ['INT64', new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n])],
  ['FP16', new Uint16Array([toHalf(1.5), toHalf(-0.25), 0x7c00, 0x7e00])],
  ['FP32', new Float32Array([0.1, -3.5, NaN, -Infinity])],
  ['FP64', new Float64Array([0.1, -3.5, Number.MAX_VALUE, 5e-324])],
] as const;

describe('Triton binary extension: requests', () => {
  it.each(FIXED)('%s input sent as raw little-endian bytes decodes to the same values', (dt, values) => {
    const req = decodeClient([{ name: 'x', shape: [2, 2], datatype: dt, data: rawBytes(values) }]);
    const t = req.inputs[0];
    expect(t.datatype).toBe(dt);
    expect(t.shape).toEqual([2, 2]);
    expect(t.data).toBeInstanceOf(values.constructor);
    expect(rawBytes(t.data as typeof values)).toEqual(rawBytes(values));
    expect(t.parameters).toEqual({ binary_data_size: values.byteLength });
  });

  it('BYTES elements are framed by 4-byte little-endian lengths', () => {
    const els = ['héllo', '', 'x'.repeat(300), '\u0000\u00ff'];
    const req = decodeClient([{ name: 's', shape: [2, 2], datatype: 'BYTES', data: serializeByteTensor(els) }]);
    expect((req.inputs[0].data as Uint8Array[]).map((b) => new TextDecoder().decode(b))).toEqual(els);
  });

  it('mixes JSON and binary inputs; binary ones take their bytes in input order', () => {
    const req = decodeClient(
      [
        { name: 'a', shape: [2], datatype: 'INT32', data: rawBytes(new Int32Array([7, 8])) },
        { name: 'j', shape: [1], datatype: 'FP32', data: [2.5] },
        { name: 'b', shape: [3], datatype: 'BOOL', data: rawBytes(new Uint8Array([1, 0, 1])) },
      ],
      [{ name: 'out', binary_data: true }],
    );
    expect(Array.from(req.inputs[0].data as Int32Array)).toEqual([7, 8]);
    expect(Array.from(req.inputs[1].data as Float32Array)).toEqual([2.5]);
    expect(Array.from(req.inputs[2].data as Uint8Array)).toEqual([1, 0, 1]);
    expect(req.outputs).toEqual([{ name: 'out', binary: true, parameters: { binary_data: true } }]);
  });

  it('views aligned tensors in the body without copying, and copies misaligned ones', () => {
    const values = new Float32Array([1, 2, 3, 4]);
    const json = { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], parameters: { binary_data_size: 16 } }] };
    const aligned = rawBody(json, rawBytes(values), 96);
    const a = decodeInferRequest(aligned.body, aligned.headerLength, 'm', null, 0).inputs[0].data as Float32Array;
    expect(a.buffer).toBe(aligned.body.buffer);
    expect(a.byteOffset).toBe(96);
    expect(Array.from(a)).toEqual([1, 2, 3, 4]);

    const mis = rawBody(json, rawBytes(values), 97);
    const m = decodeInferRequest(mis.body, mis.headerLength, 'm', null, 0).inputs[0].data as Float32Array;
    expect(m.buffer).not.toBe(mis.body.buffer);
    expect(Array.from(m)).toEqual([1, 2, 3, 4]);
  });

  it('reads the binary section of a body that is itself a view into a larger buffer', () => {
    const { body, headerLength } = buildTritonRequest([{ name: 'x', shape: [2], datatype: 'INT64', data: rawBytes(new BigInt64Array([5n, -6n])) }], []);
    const big = new Uint8Array(body.byteLength + 13);
    big.set(body, 5);
    const req = decodeInferRequest(big.subarray(5, 5 + body.byteLength), headerLength, 'm', null, 0);
    expect(req.inputs[0].data).toEqual(new BigInt64Array([5n, -6n]));
  });

  describe('bad binary input', () => {
    const x = (size: unknown, extra: Record<string, unknown> = {}): unknown => ({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 8], parameters: { binary_data_size: size }, ...extra }],
    });

    it('binary_data_size runs past the end of the body', () => {
      const { body, headerLength } = rawBody(x(64), new Uint8Array(40));
      expectInvalid(() => decodeInferRequest(body, headerLength, 'm', null, 0), 'input "x": binary_data_size 64 runs past the end of the body (40 bytes left)');
    });

    it('trailing unread binary bytes', () => {
      const { body, headerLength } = rawBody(x(64), new Uint8Array(70));
      expectInvalid(
        () => decodeInferRequest(body, headerLength, 'm', null, 0),
        `the body has 6 bytes after the binary tensor data; expected it to end there (Inference-Header-Content-Length ${headerLength}, binary_data_size total 64, body ${headerLength + 70} bytes)`,
      );
    });

    it('both data and binary_data_size', () => {
      const { body, headerLength } = rawBody(x(64, { data: [1] }), new Uint8Array(64));
      expectInvalid(() => decodeInferRequest(body, headerLength, 'm', null, 0), 'input "x": has both "data" and parameters.binary_data_size; send one of them');
    });

    it('binary_data_size without the header, or not a non-negative integer', () => {
      const { body } = rawBody(x(64), new Uint8Array(0));
      expectInvalid(
        () => decodeInferRequest(body, null, 'm', null, 0),
        'input "x": parameters.binary_data_size is set but the request has no Inference-Header-Content-Length header; send it with the byte length of the JSON part',
      );
      const neg = rawBody(x(-4), new Uint8Array(0));
      expectInvalid(() => decodeInferRequest(neg.body, neg.headerLength, 'm', null, 0), 'input "x": parameters.binary_data_size must be a non-negative integer, got -4');
    });

    it('binary_data_size that does not fit the shape', () => {
      const { body, headerLength } = rawBody(x(60), new Uint8Array(60));
      expectInvalid(
        () => decodeInferRequest(body, headerLength, 'm', null, 0),
        'input "x": binary_data_size 60 does not match shape [2,8] of FP32: expected 64 bytes (16 × 4)',
      );
    });

    it('a header length outside the body', () => {
      const b = new TextEncoder().encode('{"inputs":[]}');
      expectInvalid(() => decodeInferRequest(b, 14, 'm', null, 0), 'Inference-Header-Content-Length 14 must be an integer between 0 and the body length (13 bytes)');
      expectInvalid(() => decodeInferRequest(b, -1, 'm', null, 0), 'Inference-Header-Content-Length -1 must be an integer between 0 and the body length (13 bytes)');
    });

    it('a header length that cuts the JSON short is malformed JSON', () => {
      const b = new TextEncoder().encode('{"inputs":[]}');
      let err: unknown = null;
      try {
        decodeInferRequest(b, 5, 'm', null, 0);
      } catch (e) {
        err = e;
      }
      expect((err as GatewayError).code).toBe('SY_ERR_MALFORMED_JSON');
    });

    const bytesInput = (size: number, shape = [2]): unknown => ({
      inputs: [{ name: 's', datatype: 'BYTES', shape, parameters: { binary_data_size: size } }],
    });

    it('BYTES framing: too few elements, truncated length, length past the end, extra bytes', () => {
      const one = serializeByteTensor(['ab']);
      let r = rawBody(bytesInput(one.byteLength), one);
      expectInvalid(() => decodeInferRequest(r.body, r.headerLength, 'm', null, 0), 'input "s": binary_data_size 6 holds 1 BYTES elements but shape [2] needs 2');

      const cut = new Uint8Array([...one, 1, 0]);
      r = rawBody(bytesInput(cut.byteLength), cut);
      expectInvalid(() => decodeInferRequest(r.body, r.headerLength, 'm', null, 0), 'input "s": BYTES element 1: its 4-byte length runs past binary_data_size 8');

      const long = new Uint8Array([...one, 9, 0, 0, 0, 65]);
      r = rawBody(bytesInput(long.byteLength), long);
      expectInvalid(
        () => decodeInferRequest(r.body, r.headerLength, 'm', null, 0),
        'input "s": BYTES element 1 has length 9 but only 1 bytes of binary_data_size 11 are left',
      );

      const extra = new Uint8Array([...serializeByteTensor(['a', 'b']), 0]);
      r = rawBody(bytesInput(extra.byteLength), extra);
      expectInvalid(
        () => decodeInferRequest(r.body, r.headerLength, 'm', null, 0),
        'input "s": binary_data_size 11 has 1 bytes after the 2 BYTES elements shape [2] needs',
      );
    });

    it('a huge BYTES shape with little data fails without allocating for the shape', () => {
      const one = serializeByteTensor(['ab']);
      const r = rawBody(bytesInput(one.byteLength, [1e12]), one);
      expectInvalid(
        () => decodeInferRequest(r.body, r.headerLength, 'm', null, 0),
        'input "s": shape [1000000000000] has 1000000000000 BYTES elements; at most 1048576 are accepted in one request (split the request)',
      );
      // under the cap, the data that is missing is what is said
      const small = rawBody(bytesInput(one.byteLength, [1000]), one);
      expectInvalid(() => decodeInferRequest(small.body, small.headerLength, 'm', null, 0), 'input "s": binary_data_size 6 holds 1 BYTES elements but shape [1000] needs 1000');
    });

    it('BYTES elements are bounded per request, not only per tensor (16 inputs of 2^20 empty elements once cost 1.7 GB)', () => {
      const n = 600_000;
      const inputs = ['a', 'b'].map((name) => ({ name, datatype: 'BYTES', shape: [n], parameters: { binary_data_size: 4 * n } }));
      const r = rawBody({ inputs }, new Uint8Array(8 * n));
      expectInvalid(
        () => decodeInferRequest(r.body, r.headerLength, 'm', null, 0),
        'input "b": shape [600000] brings the request\'s BYTES elements to 1200000; at most 1048576 are accepted in one request, all inputs together (split the request)',
      );
    });
  });
});

describe('Triton binary extension: responses', () => {
  function request(outputs: { name: string; binary_data: boolean }[] | null): InferRequest {
    const { body, headerLength } = buildTritonRequest([{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }], outputs);
    return decodeInferRequest(body, headerLength, 'm', null, 0);
  }

  it.each(FIXED)('%s output goes as raw little-endian bytes the Triton client reads back', (dt, values) => {
    const resp = new InferResponse('r1', 'm', '1', [new Tensor('y', dt, [2, 2], values)]);
    const { body, headerLength } = encodeInferResponse(resp, request(null));
    expect(headerLength).not.toBeNull();
    const res = readTritonResponse(body, headerLength);
    expect(Buffer.byteLength(JSON.stringify(res.json))).toBe(headerLength);
    expect(res.json.outputs).toEqual([{ name: 'y', datatype: dt, shape: [2, 2], parameters: { binary_data_size: values.byteLength } }]);
    expect(res.binary.get('y')).toEqual(rawBytes(values));
  });

  it('BYTES output is framed as the client deserializes it', () => {
    const els = ['héllo', '', 'abc'].map((s) => new TextEncoder().encode(s));
    const resp = new InferResponse('r1', 'm', '1', [new Tensor('s', 'BYTES', [3], els)]);
    const { body, headerLength } = encodeInferResponse(resp, request([{ name: 's', binary_data: true }]));
    const res = readTritonResponse(body, headerLength);
    expect(res.json.outputs[0].parameters).toEqual({ binary_data_size: 4 * 3 + 6 + 0 + 3 });
    expect(deserializeByteTensor(res.binary.get('s')!)).toEqual(els);
  });

  it('mixes JSON and binary outputs in the requested order; binary bytes follow in JSON order', () => {
    const resp = new InferResponse('r1', 'm', '1', [
      new Tensor('a', 'INT32', [2], new Int32Array([1, 2])),
      new Tensor('b', 'FP32', [1], new Float32Array([0.5])),
      new Tensor('c', 'UINT8', [3], new Uint8Array([9, 8, 7])),
    ]);
    const req = request([
      { name: 'c', binary_data: true },
      { name: 'b', binary_data: false },
      { name: 'a', binary_data: true },
    ]);
    const { body, headerLength } = encodeInferResponse(resp, req);
    const res = readTritonResponse(body, headerLength);
    expect(res.json.outputs.map((o) => o.name)).toEqual(['c', 'b', 'a']);
    expect(res.json.outputs[1]).toEqual({ name: 'b', datatype: 'FP32', shape: [1], data: [0.5] });
    expect(res.binary.get('c')).toEqual(new Uint8Array([9, 8, 7]));
    expect(res.binary.get('a')).toEqual(rawBytes(new Int32Array([1, 2])));
    expect(new Uint8Array(body.subarray(headerLength!))).toEqual(new Uint8Array([9, 8, 7, ...rawBytes(new Int32Array([1, 2]))]));
  });

  it('no binary outputs: plain JSON and a null header length', () => {
    const resp = new InferResponse('r1', 'm', '1', [new Tensor('a', 'INT32', [1], new Int32Array([1]))]);
    const { body, headerLength } = encodeInferResponse(resp, request([{ name: 'a', binary_data: false }]));
    expect(headerLength).toBeNull();
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      id: 'r1',
      model_name: 'm',
      model_version: '1',
      outputs: [{ name: 'a', datatype: 'INT32', shape: [1], data: [1] }],
    });
  });

  it('binary input → binary output round trip leaves every byte as sent', () => {
    for (const [dt, values] of FIXED) {
      const req = decodeClient([{ name: 'x', shape: [4], datatype: dt, data: rawBytes(values) }], [{ name: 'x', binary_data: true }]);
      const resp = new InferResponse('r', 'm', '1', req.inputs);
      const { body, headerLength } = encodeInferResponse(resp, req);
      const res = readTritonResponse(body, headerLength);
      expect(res.json.outputs[0].parameters).toEqual({ binary_data_size: values.byteLength });
      expect(res.binary.get('x')).toEqual(rawBytes(values));
    }
  });
});
