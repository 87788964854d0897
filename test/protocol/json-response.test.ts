import { describe, expect, it } from 'vitest';
import { GatewayError, InferRequest, InferResponse, Tensor, type TensorData, toHalf } from '../../src/core/index.js';
import { decodeInferRequest, encodeInferResponse } from '../../src/protocol/index.js';

function jsonRequest(outputs: InferRequest['outputs'] = null): InferRequest {
  const req = new InferRequest('m', null, [], 'rest', 0);
  req.outputs = outputs;
  return req;
}

function encodeJson(outputs: Tensor[], req = jsonRequest()): { id: string; outputs: { name: string; data: unknown[]; parameters?: unknown }[] } & Record<string, unknown> {
  const { body, headerLength } = encodeInferResponse(new InferResponse('r-1', 'm', '2', outputs), req);
  expect(headerLength).toBeNull();
  return JSON.parse(body.toString('utf8')) as ReturnType<typeof encodeJson>;
}

function dataOf(dt: Tensor['datatype'], data: TensorData, shape = [data.length]): unknown[] {
  return encodeJson([new Tensor('y', dt, shape, data)]).outputs[0].data;
}

describe('encodeInferResponse: JSON', () => {
  it('writes id, model_name, model_version, parameters and outputs', () => {
    const resp = new InferResponse('r-1', 'resnet', '3', [new Tensor('y', 'FP32', [1, 2], new Float32Array([1, 2]))]);
    resp.parameters = { sequence_id: 4 };
    const { body } = encodeInferResponse(resp, jsonRequest());
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      id: 'r-1',
      model_name: 'resnet',
      model_version: '3',
      parameters: { sequence_id: 4 },
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
    });
  });

  it('escapes names and ids as JSON strings', () => {
    const resp = new InferResponse('a"b\\c\n', 'm', '1', [new Tensor('o"1', 'INT8', [1], new Int8Array([1]))]);
    const out = JSON.parse(encodeInferResponse(resp, jsonRequest()).body.toString('utf8')) as { id: string; outputs: { name: string }[] };
    expect(out.id).toBe('a"b\\c\n');
    expect(out.outputs[0].name).toBe('o"1');
  });

  it('writes every datatype as JSON values', () => {
    expect(dataOf('BOOL', new Uint8Array([1, 0, 2]))).toEqual([true, false, true]);
    expect(dataOf('UINT8', new Uint8Array([0, 255]))).toEqual([0, 255]);
    expect(dataOf('UINT16', new Uint16Array([0, 65535]))).toEqual([0, 65535]);
    expect(dataOf('UINT32', new Uint32Array([0, 2 ** 32 - 1]))).toEqual([0, 2 ** 32 - 1]);
    expect(dataOf('INT8', new Int8Array([-128, 127]))).toEqual([-128, 127]);
    expect(dataOf('INT16', new Int16Array([-32768, 32767]))).toEqual([-32768, 32767]);
    expect(dataOf('INT32', new Int32Array([-(2 ** 31), 2 ** 31 - 1]))).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    expect(dataOf('INT64', new BigInt64Array([-5n, 2n ** 53n - 1n, -(2n ** 53n)]))).toEqual([-5, 2 ** 53 - 1, -(2 ** 53)]);
    expect(dataOf('UINT64', new BigUint64Array([0n, 2n ** 53n - 1n]))).toEqual([0, 2 ** 53 - 1]);
    expect(dataOf('FP16', new Uint16Array([toHalf(1.5), toHalf(-0.000061035156), 0x3555]))).toEqual([1.5, -0.00006103515625, 0.333251953125]);
    expect(dataOf('FP32', new Float32Array([0.5, -1e-45]))).toEqual([0.5, Math.fround(-1e-45)]);
    expect(dataOf('FP64', new Float64Array([0.1, 1.7976931348623157e308]))).toEqual([0.1, 1.7976931348623157e308]);
    expect(dataOf('BYTES', [new TextEncoder().encode('héllo'), new Uint8Array(0)])).toEqual(['héllo', '']);
  });

  it('writes 64-bit integers beyond 2^53 with every digit', () => {
    const { body } = encodeInferResponse(
      new InferResponse('r', 'm', '1', [
        new Tensor('i', 'INT64', [3], new BigInt64Array([1n, -(2n ** 63n), 2n ** 63n - 1n])),
        new Tensor('u', 'UINT64', [2], new BigUint64Array([2n ** 64n - 1n, 2n ** 53n])),
      ]),
      jsonRequest(),
    );
    const text = body.toString('utf8');
    expect(text).toContain('"data":[1,-9223372036854775808,9223372036854775807]');
    expect(text).toContain('"data":[18446744073709551615,9007199254740992]');
  });

  it('writes non-finite floats as "NaN"/"Infinity"/"-Infinity" strings and keeps -0 (as -0.0)', () => {
    const text = (dt: Tensor['datatype'], data: TensorData): string => {
      const { body } = encodeInferResponse(new InferResponse('r', 'm', '1', [new Tensor('y', dt, [data.length], data)]), jsonRequest());
      return /"data":(\[[^\]]*\])/.exec(body.toString('utf8'))![1];
    };
    expect(text('FP32', new Float32Array([1, NaN, Infinity, -Infinity, -0]))).toBe('[1,"NaN","Infinity","-Infinity",-0.0]');
    expect(text('FP64', new Float64Array([-0, 0.25]))).toBe('[-0.0,0.25]');
    expect(text('FP16', new Uint16Array([0x7e00, 0x7c00, 0xfc00, 0x8000, 0x3c00]))).toBe('["NaN","Infinity","-Infinity",-0.0,1]');
  });

  it("writes non-finite floats as Triton's bare NaN/Infinity/-Infinity tokens when asked (REST)", () => {
    const text = (dt: Tensor['datatype'], data: TensorData): string => {
      const { body } = encodeInferResponse(new InferResponse('r', 'm', '1', [new Tensor('y', dt, [data.length], data)]), jsonRequest(), 'token');
      return /"data":(\[[^\]]*\])/.exec(body.toString('utf8'))![1];
    };
    expect(text('FP32', new Float32Array([1, NaN, Infinity, -Infinity, -0]))).toBe('[1,NaN,Infinity,-Infinity,-0.0]');
    expect(text('FP64', new Float64Array([Number.MAX_VALUE, -Infinity]))).toBe('[1.7976931348623157e+308,-Infinity]');
    expect(text('FP16', new Uint16Array([0x7e00, 0x7c00, 0xfc00, 0x3c00]))).toBe('[NaN,Infinity,-Infinity,1]');
    // finite data is the same either way
    expect(text('FP32', new Float32Array([0.5, -2]))).toBe('[0.5,-2]');
  });

  it('writes BYTES as base64 when the requested output or the tensor asks for content_type base64', () => {
    const bytes = [new Uint8Array([0, 0xff, 0x80])];
    const req = jsonRequest([{ name: 'y', binary: false, parameters: { content_type: 'base64' } }]);
    const out = encodeJson([new Tensor('y', 'BYTES', [1], bytes)], req).outputs[0];
    expect(out.data).toEqual(['AP+A']);
    expect(out.parameters).toEqual({ content_type: 'base64' });
    const own = encodeJson([new Tensor('y', 'BYTES', [1], bytes, { content_type: 'base64' })]).outputs[0];
    expect(own.data).toEqual(['AP+A']);
  });

  it('returns the listed outputs in the listed order, all of them when none are listed', () => {
    const outs = [new Tensor('a', 'INT32', [1], new Int32Array([1])), new Tensor('b', 'INT32', [1], new Int32Array([2])), new Tensor('c', 'INT32', [1], new Int32Array([3]))];
    expect(encodeJson(outs).outputs.map((o) => o.name)).toEqual(['a', 'b', 'c']);
    const req = jsonRequest([
      { name: 'c', binary: false, parameters: null },
      { name: 'a', binary: false, parameters: null },
    ]);
    expect(encodeJson(outs, req).outputs.map((o) => [o.name, o.data])).toEqual([
      ['c', [3]],
      ['a', [1]],
    ]);
  });

  it('writes the tensor parameters, without a stale binary_data_size', () => {
    const t = new Tensor('y', 'INT32', [1], new Int32Array([1]), { binary_data_size: 4, unit: 'ms' });
    expect(encodeJson([t]).outputs[0].parameters).toEqual({ unit: 'ms' });
  });

  it('a requested output the model did not return is an inference failure', () => {
    const req = jsonRequest([{ name: 'zz', binary: false, parameters: null }]);
    let err: unknown = null;
    try {
      encodeInferResponse(new InferResponse('r', 'm', '1', []), req);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('SY_ERR_INFERENCE_FAILED');
    expect((err as GatewayError).message).toBe('output "zz" was requested but the model did not return it');
  });
});

describe('decode → encode round trip (JSON)', () => {
  const CASES: [string, number[], unknown[]][] = [
    ['BOOL', [2, 2], [[true, false], [false, true]]],
    ['UINT8', [3], [0, 17, 255]],
    ['UINT16', [3], [0, 1000, 65535]],
    ['UINT32', [3], [0, 70000, 4294967295]],
    ['UINT64', [3], [0, 9007199254740991, 12]],
    ['INT8', [3], [-128, 0, 127]],
    ['INT16', [3], [-32768, 0, 32767]],
    ['INT32', [3], [-2147483648, 0, 2147483647]],
    ['INT64', [1, 3], [[-9007199254740991, 0, 9007199254740991]]],
    ['FP16', [4], [0.5, -65504, 6.103515625e-5, 'Infinity']],
    ['FP32', [2, 3], [[0.5, -1.25, 3.4028234663852886e38], [1.401298464324817e-45, 'NaN', '-Infinity']]],
    ['FP64', [3], [0.1, -2.2250738585072014e-308, 'Infinity']],
    ['BYTES', [2, 2], [['héllo', ''], ['日本語', '{"json": true}']]],
  ];

  it.each(CASES)('%s comes back as sent (flattened)', (dt, shape, data) => {
    const body = new TextEncoder().encode(JSON.stringify({ id: 'rt', inputs: [{ name: 'x', datatype: dt, shape, data }] }));
    const req = decodeInferRequest(body, null, 'm', null, 0);
    const { body: out, headerLength } = encodeInferResponse(new InferResponse(req.id, 'm', '1', req.inputs), req);
    expect(headerLength).toBeNull();
    const parsed = JSON.parse(out.toString('utf8')) as { id: string; outputs: unknown[] };
    expect(parsed.id).toBe('rt');
    expect(parsed.outputs).toEqual([{ name: 'x', datatype: dt, shape, data: data.flat() }]);
  });

  it('64-bit decimal strings come back as exact JSON numbers', () => {
    const body = new TextEncoder().encode(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT64', shape: [2], data: ['-9223372036854775808', '123'] }] }));
    const req = decodeInferRequest(body, null, 'm', null, 0);
    const { body: out } = encodeInferResponse(new InferResponse('', 'm', '1', req.inputs), req);
    expect(out.toString('utf8')).toContain('"data":[-9223372036854775808,123]');
  });
});
