import { describe, expect, it } from 'vitest';
import { GatewayError, InferRequest, toHalf } from '../../src/core/index.js';
import { decodeInferRequest } from '../../src/protocol/index.js';

function body(obj: unknown): Uint8Array {
  return new TextEncoder().encode(typeof obj === 'string' ? obj : JSON.stringify(obj));
}

function decode(obj: unknown): InferRequest {
  return decodeInferRequest(body(obj), null, 'm', null, 12.5);
}

function one(input: Record<string, unknown>): InferRequest {
  return decode({ inputs: [{ name: 'x', ...input }] });
}

function errorOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw new Error(`expected a GatewayError, got ${String(e)}`);
  }
  throw new Error('expected an error, none was thrown');
}

function expectInvalid(fn: () => unknown, message: string): void {
  const e = errorOf(fn);
  expect(e.code).toBe('SY_ERR_INVALID_INPUT');
  expect(e.httpStatus).toBe(400);
  expect(e.message).toBe(message);
}

describe('decodeInferRequest: request fields', () => {
  it('builds a REST request with model, version, receivedAt; id stays empty when absent', () => {
    const req = decodeInferRequest(body({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }), null, 'resnet', '3', 99);
    expect(req).toBeInstanceOf(InferRequest);
    expect(req.modelName).toBe('resnet');
    expect(req.modelVersion).toBe('3');
    expect(req.receivedAt).toBe(99);
    expect(req.protocol).toBe('rest');
    expect(req.id).toBe('');
    expect(req.outputs).toBeNull();
    expect(req.parameters).toBeNull();
    expect(req.priority).toBe(0);
    expect(req.timeoutUs).toBe(0);
    expect(req.binaryOutputs).toBe(false);
  });

  it('echoes id and keeps parameters; maps priority, timeout and binary_data_output', () => {
    const params = { priority: 2, timeout: 5000, binary_data_output: true, sequence_id: 7 };
    const req = decode({ id: 'req-1', parameters: params, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] });
    expect(req.id).toBe('req-1');
    expect(req.parameters).toEqual(params);
    expect(req.priority).toBe(2);
    expect(req.timeoutUs).toBe(5000);
    expect(req.binaryOutputs).toBe(true);
  });

  it('can be tagged with another protocol (the WebSocket transport reuses it)', () => {
    const req = decodeInferRequest(body({ inputs: [] }), null, 'm', null, 0, 'ws');
    expect(req.protocol).toBe('ws');
    expect(req.inputs).toEqual([]);
  });

  it('reads requested outputs and resolves binary as Triton does (binary_data overrides binary_data_output)', () => {
    const req = decode({
      parameters: { binary_data_output: true },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
      outputs: [{ name: 'a' }, { name: 'b', parameters: { binary_data: false } }, { name: 'c', parameters: { binary_data: true, foo: 1 } }],
    });
    expect(req.outputs).toEqual([
      { name: 'a', binary: true, parameters: null },
      { name: 'b', binary: false, parameters: { binary_data: false } },
      { name: 'c', binary: true, parameters: { binary_data: true, foo: 1 } },
    ]);
  });

  it('outputs default to JSON and an empty outputs list means all outputs', () => {
    const req = decode({ inputs: [], outputs: [{ name: 'a' }] });
    expect(req.outputs).toEqual([{ name: 'a', binary: false, parameters: null }]);
    expect(decode({ inputs: [], outputs: [] }).outputs).toBeNull();
  });

  it('keeps tensor parameters on the input', () => {
    const req = one({ datatype: 'FP32', shape: [1], data: [1], parameters: { content_type: 'np' } });
    expect(req.inputs[0].parameters).toEqual({ content_type: 'np' });
  });
});

describe('decodeInferRequest: datatypes from JSON', () => {
  it('BOOL takes true/false and 0/1', () => {
    const t = one({ datatype: 'BOOL', shape: [4], data: [true, false, 1, 0] }).inputs[0];
    expect(t.data).toEqual(new Uint8Array([1, 0, 1, 0]));
  });

  it.each([
    ['UINT8', [0, 255], Uint8Array],
    ['UINT16', [0, 65535], Uint16Array],
    ['UINT32', [0, 4294967295], Uint32Array],
    ['INT8', [-128, 127], Int8Array],
    ['INT16', [-32768, 32767], Int16Array],
    ['INT32', [-2147483648, 2147483647], Int32Array],
  ] as const)('%s takes integers at both ends of its range', (dt, values, ctor) => {
    const t = one({ datatype: dt, shape: [2], data: values }).inputs[0];
    expect(t.data).toBeInstanceOf(ctor);
    expect(Array.from(t.data as ArrayLike<number>)).toEqual(values);
  });

  it('INT64 and UINT64 become BigInt arrays and take decimal strings for the full range', () => {
    const i = one({ datatype: 'INT64', shape: [4], data: [-5, 9007199254740991, '-9223372036854775808', '9223372036854775807'] }).inputs[0];
    expect(i.data).toEqual(new BigInt64Array([-5n, 9007199254740991n, -(2n ** 63n), 2n ** 63n - 1n]));
    const u = one({ datatype: 'UINT64', shape: [3], data: [0, '18446744073709551615', 42] }).inputs[0];
    expect(u.data).toEqual(new BigUint64Array([0n, 2n ** 64n - 1n, 42n]));
  });

  it('FP16 numbers become half bits; FP32/FP64 take "NaN", "Infinity", "-Infinity"', () => {
    const h = one({ datatype: 'FP16', shape: [4], data: [1.5, -2, 'Infinity', 65504] }).inputs[0];
    expect(h.data).toEqual(new Uint16Array([toHalf(1.5), toHalf(-2), 0x7c00, 0x7bff]));
    const f = one({ datatype: 'FP32', shape: [4], data: [0.1, 'NaN', 'Infinity', '-Infinity'] }).inputs[0];
    expect(Array.from(f.data as Float32Array)).toEqual([Math.fround(0.1), NaN, Infinity, -Infinity]);
    const d = one({ datatype: 'FP64', shape: [2], data: [0.1, '-Infinity'] }).inputs[0];
    expect(d.data).toEqual(new Float64Array([0.1, -Infinity]));
  });

  it('BYTES strings become UTF-8 bytes, or base64-decoded bytes with content_type base64', () => {
    const t = one({ datatype: 'BYTES', shape: [3], data: ['héllo', '', '日本'] }).inputs[0];
    expect((t.data as Uint8Array[]).map((b) => Buffer.from(b).toString('utf8'))).toEqual(['héllo', '', '日本']);
    const b = one({ datatype: 'BYTES', shape: [2], data: ['AP+A', ''], parameters: { content_type: 'base64' } }).inputs[0];
    expect((b.data as Uint8Array[]).map((x) => Array.from(x))).toEqual([[0x00, 0xff, 0x80], []]);
  });

  it('flattens nested data row-major, whatever the nesting', () => {
    const t = one({ datatype: 'INT32', shape: [2, 2, 2], data: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] }).inputs[0];
    expect(Array.from(t.data as Int32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const loose = one({ datatype: 'FP32', shape: [2, 3], data: [[1, 2, 3], 4, [5, [6]]] }).inputs[0];
    expect(Array.from(loose.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const b = one({ datatype: 'BYTES', shape: [2, 1], data: [['a'], ['b']] }).inputs[0];
    expect((b.data as Uint8Array[]).map((x) => Buffer.from(x).toString())).toEqual(['a', 'b']);
  });

  it('accepts empty and scalar tensors', () => {
    expect(one({ datatype: 'FP32', shape: [0, 4], data: [] }).inputs[0].data).toEqual(new Float32Array(0));
    expect(one({ datatype: 'FP32', shape: [], data: [7] }).inputs[0].data).toEqual(new Float32Array([7]));
  });

  it('mixes special strings into otherwise plain numeric data', () => {
    const t = one({ datatype: 'FP32', shape: [5], data: [1, 'NaN', 3, 'Infinity', 5] }).inputs[0];
    expect(Array.from(t.data as Float32Array)).toEqual([1, NaN, 3, Infinity, 5]);
  });
});

describe('decodeInferRequest: bad input', () => {
  it('unparsable JSON is SY_ERR_MALFORMED_JSON with the parser message', () => {
    const e = errorOf(() => decode('{"inputs": ['));
    expect(e.code).toBe('SY_ERR_MALFORMED_JSON');
    expect(e.httpStatus).toBe(400);
    expect(e.message).toMatch(/^malformed JSON: \S/);
  });

  it('names the body problems', () => {
    expectInvalid(() => decode([1]), 'the request body must be a JSON object with "inputs", got an array');
    expectInvalid(() => decode({}), 'the request has no "inputs"; expected {"inputs": [{"name", "datatype", "shape", "data"}]}');
    expectInvalid(() => decode({ inputs: {} }), '"inputs" must be an array, got an object');
    expectInvalid(() => decode({ id: 5, inputs: [] }), '"id" must be a string, got 5');
    expectInvalid(() => decode({ parameters: [], inputs: [] }), '"parameters" must be an object, got an array');
    expectInvalid(() => decode({ inputs: [7] }), 'inputs[0] must be an object, got number 7');
  });

  it('names bad request parameters', () => {
    expectInvalid(() => decode({ parameters: { priority: -1 }, inputs: [] }), 'parameters.priority must be a non-negative integer, got -1');
    expectInvalid(() => decode({ parameters: { timeout: 1.5 }, inputs: [] }), 'parameters.timeout (microseconds) must be a non-negative integer, got 1.5');
    expectInvalid(() => decode({ parameters: { binary_data_output: 'yes' }, inputs: [] }), 'parameters.binary_data_output must be true or false, got "yes"');
  });

  it('names bad requested outputs', () => {
    expectInvalid(() => decode({ inputs: [], outputs: 'y' }), '"outputs" must be an array, got string "y"');
    expectInvalid(() => decode({ inputs: [], outputs: [{}] }), 'outputs[0]: missing "name"; expected a non-empty string');
    expectInvalid(
      () => decode({ inputs: [], outputs: [{ name: 'y', parameters: { binary_data: 1 } }] }),
      'output "y": parameters.binary_data must be true or false, got 1',
    );
    expectInvalid(
      () => decode({ inputs: [], outputs: [{ name: 'y', parameters: { classification: 0 } }] }),
      'output "y": parameters.classification must be a positive integer (how many top classes to return), got 0',
    );
    expectInvalid(
      () => decode({ inputs: [], outputs: [{ name: 'y', parameters: { classification: '3' } }] }),
      'output "y": parameters.classification must be a positive integer (how many top classes to return), got "3"',
    );
    expect(decode({ inputs: [], outputs: [{ name: 'y', parameters: { classification: 3 } }] }).outputs?.[0].parameters).toEqual({ classification: 3 });
  });

  it('missing name, datatype or shape', () => {
    expectInvalid(() => decode({ inputs: [{ datatype: 'FP32', shape: [1], data: [1] }] }), 'inputs[0]: missing "name"; expected a non-empty string');
    expectInvalid(() => decode({ inputs: [{ name: 3, datatype: 'FP32', shape: [1], data: [1] }] }), 'inputs[0]: "name" is 3; expected a non-empty string');
    expectInvalid(
      () => one({ shape: [1], data: [1] }),
      'input "x": missing "datatype"; expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES',
    );
    expectInvalid(() => one({ datatype: 'FP32', data: [1] }), 'input "x": missing "shape"; expected an array of non-negative integers');
  });

  it('unknown datatype lists the known ones', () => {
    expectInvalid(
      () => one({ datatype: 'FLOAT', shape: [1], data: [1] }),
      'input "x": unknown datatype "FLOAT"; expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES',
    );
  });

  it('shape with negative, fractional or non-number dimensions', () => {
    expectInvalid(() => one({ datatype: 'FP32', shape: [2, -1], data: [] }), 'input "x": shape [2,-1] has dimension -1 at 1; expected an array of non-negative integers');
    expectInvalid(() => one({ datatype: 'FP32', shape: [1.5], data: [] }), 'input "x": shape [1.5] has dimension 1.5 at 0; expected an array of non-negative integers');
    expectInvalid(() => one({ datatype: 'FP32', shape: ['2'], data: [] }), 'input "x": shape ["2"] has dimension "2" at 0; expected an array of non-negative integers');
    expectInvalid(() => one({ datatype: 'FP32', shape: 4, data: [] }), 'input "x": "shape" must be an array of non-negative integers, got 4');
  });

  it('element count differs from the shape (flat and nested)', () => {
    expectInvalid(
      () => one({ datatype: 'FP32', shape: [2, 8], data: new Array(15).fill(0) }),
      'input "x": data has 15 elements but shape [2,8] needs 16',
    );
    expectInvalid(() => one({ datatype: 'INT32', shape: [2, 2], data: [[1, 2], [3]] }), 'input "x": data has 3 elements but shape [2,2] needs 4');
  });

  it('names the bad element and what its datatype expects', () => {
    expectInvalid(() => one({ datatype: 'FP32', shape: [4], data: [0, 1, 2, 'a'] }), 'input "x": element 3 is "a", expected a number (FP32)');
    expectInvalid(() => one({ datatype: 'FP32', shape: [2, 2], data: [[0, 1], [null, 3]] }), 'input "x": element 2 is null, expected a number (FP32)');
    expectInvalid(() => one({ datatype: 'FP16', shape: [1], data: [true] }), 'input "x": element 0 is true, expected a number (FP16)');
    expectInvalid(() => one({ datatype: 'UINT8', shape: [2], data: [1, 256] }), 'input "x": element 1 is 256, expected an integer in [0, 255] (UINT8)');
    expectInvalid(() => one({ datatype: 'INT8', shape: [1], data: [-129] }), 'input "x": element 0 is -129, expected an integer in [-128, 127] (INT8)');
    expectInvalid(() => one({ datatype: 'INT32', shape: [1], data: [1.5] }), 'input "x": element 0 is 1.5, expected an integer in [-2147483648, 2147483647] (INT32)');
    expectInvalid(() => one({ datatype: 'UINT32', shape: [1], data: ['7'] }), 'input "x": element 0 is "7", expected an integer in [0, 4294967295] (UINT32)');
    expectInvalid(() => one({ datatype: 'BOOL', shape: [1], data: [2] }), 'input "x": element 0 is 2, expected true or false (BOOL)');
    expectInvalid(() => one({ datatype: 'BYTES', shape: [2], data: ['a', 1] }), 'input "x": element 1 is 1, expected a string (BYTES)');
    expectInvalid(
      () => one({ datatype: 'BYTES', shape: [1], data: ['not base64!'], parameters: { content_type: 'base64' } }),
      'input "x": element 0 is "not base64!", expected a base64 string (BYTES, content_type base64)',
    );
  });

  it('64-bit integers out of range, as decimal strings or JSON numbers', () => {
    const expected = 'expected an integer in [-9223372036854775808, 9223372036854775807] (INT64)';
    expectInvalid(() => one({ datatype: 'INT64', shape: [1], data: ['9223372036854775808'] }), `input "x": element 0 is "9223372036854775808", ${expected}`);
    expectInvalid(() => decode('{"inputs": [{"name": "x", "datatype": "INT64", "shape": [1], "data": [9223372036854775808]}]}'), `input "x": element 0 is "9223372036854775808", ${expected}`);
    expectInvalid(() => one({ datatype: 'INT64', shape: [1], data: [2 ** 70] }), `input "x": element 0 is 1.1805916207174113e+21, ${expected}`);
    expectInvalid(() => one({ datatype: 'INT64', shape: [1], data: ['1e3'] }), `input "x": element 0 is "1e3", ${expected}`);
    expectInvalid(() => one({ datatype: 'UINT64', shape: [1], data: [-1] }), 'input "x": element 0 is -1, expected an integer in [0, 18446744073709551615] (UINT64)');
    expectInvalid(
      () => decode('{"inputs": [{"name": "x", "datatype": "UINT64", "shape": [1], "data": [18446744073709551616]}]}'),
      'input "x": element 0 is "18446744073709551616", expected an integer in [0, 18446744073709551615] (UINT64)',
    );
  });

  it('data that is not an array, nested too deep, or an unsupported content_type', () => {
    expectInvalid(() => one({ datatype: 'FP32', shape: [1], data: 1 }), 'input "x": "data" must be an array of FP32 elements, got 1');
    let deep: unknown = [1];
    for (let i = 0; i < 70; i++) deep = [deep];
    expectInvalid(() => one({ datatype: 'FP32', shape: [1], data: deep }), 'input "x": data is nested deeper than 64 levels');
    expectInvalid(
      () => one({ datatype: 'BYTES', shape: [1], data: ['a'], parameters: { content_type: 'hex' } }),
      'input "x": parameters.content_type "hex" is not supported for BYTES; expected "base64" or none',
    );
  });

  it('parameters of the request, an input or an output nested deeper than 32 levels are refused (a 200,000-deep one was kept)', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const x = '{"name":"x","datatype":"FP32","shape":[1],"data":[1]}';
    for (const [text, what] of [
      [`{"parameters":{"p":${deep}},"inputs":[${x}]}`, '"parameters"'],
      [`{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1],"parameters":{"p":${deep}}}]}`, 'input "x": "parameters"'],
      [`{"inputs":[${x}],"outputs":[{"name":"y","parameters":{"p":${deep}}}]}`, 'output "y": "parameters"'],
    ]) {
      expectInvalid(() => decodeInferRequest(new TextEncoder().encode(text), null, 'm', null, 0), `${what} nests deeper than 32 levels; parameter values are expected to be strings, numbers or booleans`);
    }
    // 32 levels, the parameters object itself included, are fine
    const ok = decode({ inputs: [], parameters: { p: JSON.parse(`${'['.repeat(31)}${']'.repeat(31)}`) as unknown } });
    expect(ok.parameters).not.toBeNull();
  });

  it('JSON BYTES data is bounded per request before its elements are made (21M "" in 64 MB had no bound)', () => {
    const n = (1 << 20) + 1;
    const text = `{"inputs":[{"name":"s","datatype":"BYTES","shape":[${n}],"data":[${'"",'.repeat(n - 1)}""]}]}`;
    expectInvalid(
      () => decodeInferRequest(new TextEncoder().encode(text), null, 'm', null, 0),
      `input "s": shape [${n}] has ${n} BYTES elements; at most 1048576 are accepted in one request (split the request)`,
    );
    const half = { datatype: 'BYTES', shape: [600_000], data: new Array<string>(600_000).fill('') };
    expect(errorOf(() => decode({ inputs: [{ name: 'a', ...half }, { name: 'b', ...half }] })).message).toMatch(/^input "b": shape \[600000\] brings the request's BYTES elements to 1200000; at most 1048576/);
  });

  it('neither data nor binary_data_size; shared memory inputs wait for the gateway to read their region', () => {
    expectInvalid(() => one({ datatype: 'FP32', shape: [1] }), 'input "x": has neither "data" nor parameters.binary_data_size; send one of them');
    const shm = one({ datatype: 'FP32', shape: [2], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 8 } }).inputs[0];
    expect(shm.data).toEqual(new Float32Array(0));
    expect(shm.parameters).toEqual({ shared_memory_region: 'r', shared_memory_byte_size: 8 });
    expectInvalid(
      () => one({ datatype: 'FP32', shape: [1], data: [1], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4 } }),
      'input "x": has both "data" and parameters.shared_memory_region; send one of them',
    );
    const out = decode({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }], parameters: { binary_data_output: true }, outputs: [{ name: 'y', parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4 } }] });
    expect(out.outputs?.[0].binary).toBe(false);
  });

  it('never lets a non-GatewayError escape for odd JSON values', () => {
    const odd: unknown[] = [null, true, 'x', 0, [], {}, { inputs: [null] }, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1e300, 1e300], data: [] }] }];
    for (const o of odd) expect(errorOf(() => decode(o))).toBeInstanceOf(GatewayError);
  });
});

describe('decodeInferRequest: JSON numbers as Triton reads them', () => {
  const raw = (datatype: string, data: string, shape = '[3]'): InferRequest =>
    decode(`{"inputs": [{"name": "x", "datatype": "${datatype}", "shape": ${shape}, "data": ${data}}]}`);

  it('takes bare NaN, Inf, Infinity, -Inf, -Infinity and -NaN tokens for FP16/FP32/FP64', () => {
    expect(Array.from(raw('FP32', '[NaN, Infinity, -Infinity]').inputs[0].data as Float32Array)).toEqual([NaN, Infinity, -Infinity]);
    expect(raw('FP64', '[Inf,-Inf,-NaN]').inputs[0].data).toEqual(new Float64Array([Infinity, -Infinity, NaN]));
    expect(Array.from(raw('FP16', '[1.5,NaN,-Infinity]').inputs[0].data as Uint16Array)).toEqual([toHalf(1.5), toHalf(NaN), toHalf(-Infinity)]);
    // Python's json.dumps of a list with non-finite floats, nested rows
    expect(Array.from(raw('FP32', '[[1.0, NaN], [-Infinity, 2.5]]', '[2, 2]').inputs[0].data as Float32Array)).toEqual([1, NaN, -Infinity, 2.5]);
  });

  it('never changes a string while rewriting the tokens, and takes them anywhere outside strings', () => {
    const req = decode(
      '{"id": "NaN Infinity 12345678901234567890", "parameters": {"note": "-Inf \\" NaN"}, "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [NaN]}, {"name": "s", "datatype": "BYTES", "shape": [2], "data": ["NaN", "a\\\\"]}]}',
    );
    expect(req.id).toBe('NaN Infinity 12345678901234567890');
    expect(req.parameters).toEqual({ note: '-Inf " NaN' });
    expect(new TextDecoder().decode((req.inputs[1].data as Uint8Array[])[0])).toBe('NaN');
    expect(new TextDecoder().decode((req.inputs[1].data as Uint8Array[])[1])).toBe('a\\');
    expect(Number.isNaN((req.inputs[0].data as Float32Array)[0])).toBe(true);
  });

  it('still refuses malformed JSON with the parser message for the text the client sent', () => {
    const e = errorOf(() => decode('{"inputs": [NaNa]}'));
    expect(e.code).toBe('SY_ERR_MALFORMED_JSON');
    expect(e.message).toMatch(/^malformed JSON: /);
    expect(errorOf(() => decode('{"inputs": [Infinit]}')).code).toBe('SY_ERR_MALFORMED_JSON');
    expect(errorOf(() => decode('{"inputs": [nan]}')).code).toBe('SY_ERR_MALFORMED_JSON');
    expect(errorOf(() => decode('{"inputs": "unterminated NaN')).code).toBe('SY_ERR_MALFORMED_JSON');
  });

  it('refuses non-finite tokens for integer types, naming the element', () => {
    expectInvalid(() => raw('INT32', '[1, NaN, 3]'), 'input "x": element 1 is "NaN", expected an integer in [-2147483648, 2147483647] (INT32)');
  });

  it('reads INT64/UINT64 JSON numbers beyond ±2^53 exactly, at their extremes too', () => {
    const i64 = raw('INT64', '[9223372036854775807, -9223372036854775808, 9007199254740993]').inputs[0].data as BigInt64Array;
    expect(Array.from(i64)).toEqual([2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n]);
    const u64 = raw('UINT64', '[18446744073709551615, 9007199254740993, 0]').inputs[0].data as BigUint64Array;
    expect(Array.from(u64)).toEqual([2n ** 64n - 1n, 2n ** 53n + 1n, 0n]);
    // nested, mixed with safe numbers and decimal strings
    const nested = raw('INT64', '[[1, "-9223372036854775807"], [12345678901234567, -12345678901234567]]', '[2, 2]').inputs[0].data as BigInt64Array;
    expect(Array.from(nested)).toEqual([1n, -(2n ** 63n) + 1n, 12345678901234567n, -12345678901234567n]);
  });

  it('finds the exact digits of the right input when several inputs and the binary extension are used', () => {
    const json = '{"inputs": [{"name": "a", "datatype": "INT64", "shape": [1], "data": [1]}, {"name": "b", "datatype": "FP32", "shape": [1], "parameters": {"binary_data_size": 4}}, {"name": "c", "datatype": "UINT64", "shape": [2], "data": [18446744073709551614, NaN]}]}';
    const bytes = new TextEncoder().encode(json);
    const bodyBytes = new Uint8Array(bytes.byteLength + 4);
    bodyBytes.set(bytes);
    bodyBytes.set(new Uint8Array(new Float32Array([2.5]).buffer), bytes.byteLength);
    // the UINT64 input has a NaN: a decode error naming it, after the exact digits were read
    expectInvalid(
      () => decodeInferRequest(bodyBytes, bytes.byteLength, 'm', null, 0),
      'input "c": element 1 is "NaN", expected an integer in [0, 18446744073709551615] (UINT64)',
    );
    const ok = new TextEncoder().encode(json.replace(', NaN]', ', 7]'));
    const okBody = new Uint8Array(ok.byteLength + 4);
    okBody.set(ok);
    okBody.set(new Uint8Array(new Float32Array([2.5]).buffer), ok.byteLength);
    const req = decodeInferRequest(okBody, ok.byteLength, 'm', null, 0);
    expect(Array.from(req.inputs[2].data as BigUint64Array)).toEqual([2n ** 64n - 2n, 7n]);
    expect(Array.from(req.inputs[1].data as Float32Array)).toEqual([2.5]);
  });

  it('leaves other fields alone: a long integer outside INT64 data is a plain number', () => {
    const req = decode('{"parameters": {"big": 12345678901234567890}, "inputs": [{"name": "x", "datatype": "INT64", "shape": [1], "data": [12345678901234567]}]}');
    expect(req.parameters).toEqual({ big: Number('12345678901234567890') });
    expect(Array.from(req.inputs[0].data as BigInt64Array)).toEqual([12345678901234567n]);
  });
});
