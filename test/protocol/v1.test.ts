import { describe, expect, it } from 'vitest';
import { GatewayError, InferResponse, type ModelSignature, Tensor, type TensorSpec } from '../../src/core/index.js';
import { decodeV1Predict, encodeV1Predict } from '../../src/protocol/index.js';

function sig(...inputs: TensorSpec[]): ModelSignature {
  return { inputs, outputs: [] };
}

const X: TensorSpec = { name: 'x', datatype: 'FP32', shape: [-1, 2] };

function decode(obj: unknown, signature: ModelSignature = sig(X)) {
  return decodeV1Predict(new TextEncoder().encode(JSON.stringify(obj)), 'm', signature, 5);
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

function predictions(outputs: Tensor[]): unknown {
  return (JSON.parse(encodeV1Predict(new InferResponse('r', 'm', '1', outputs)).toString('utf8')) as { predictions: unknown }).predictions;
}

describe('decodeV1Predict', () => {
  it('stacks the instances of a single-input model into one tensor [n, ...row]', () => {
    const req = decode({ instances: [[1, 2], [3, 4], [5, 6]] });
    expect(req.modelName).toBe('m');
    expect(req.modelVersion).toBeNull();
    expect(req.receivedAt).toBe(5);
    expect(req.id).toBe('');
    expect(req.outputs).toBeNull();
    expect(req.inputs).toHaveLength(1);
    const t = req.inputs[0];
    expect([t.name, t.datatype, t.shape]).toEqual(['x', 'FP32', [3, 2]]);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('scalar rows give a rank-1 tensor; deeper rows keep their shape', () => {
    expect(decode({ instances: [1, 2, 3] }, sig({ name: 'x', datatype: 'INT32', shape: [-1] })).inputs[0].shape).toEqual([3]);
    const t = decode({ instances: [[[1], [2]], [[3], [4]]] }, sig({ name: 'x', datatype: 'INT8', shape: [-1, 2, 1] })).inputs[0];
    expect(t.shape).toEqual([2, 2, 1]);
    expect(Array.from(t.data as Int8Array)).toEqual([1, 2, 3, 4]);
  });

  it('accepts instances keyed by the input name for a single-input model', () => {
    const t = decode({ instances: [{ x: [1, 2] }, { x: [3, 4] }] }).inputs[0];
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('builds one tensor per input of a multi-input model, in signature order', () => {
    const s = sig({ name: 'a', datatype: 'INT64', shape: [-1, 2] }, { name: 'b', datatype: 'BYTES', shape: [-1] });
    const req = decode({ instances: [{ b: 'hi', a: [1, '9223372036854775807'] }, { a: [3, 4], b: { b64: 'AP8=' } }] }, s);
    expect(req.inputs.map((t) => [t.name, t.datatype, t.shape])).toEqual([
      ['a', 'INT64', [2, 2]],
      ['b', 'BYTES', [2]],
    ]);
    expect(req.inputs[0].data).toEqual(new BigInt64Array([1n, 2n ** 63n - 1n, 3n, 4n]));
    expect((req.inputs[1].data as Uint8Array[]).map((b) => Array.from(b))).toEqual([[104, 105], [0, 255]]);
  });

  it('takes the version when given', () => {
    const req = decodeV1Predict(new TextEncoder().encode('{"instances":[[1,2]]}'), 'm', sig(X), 0, '4');
    expect(req.modelVersion).toBe('4');
  });

  it('names what is wrong with the body', () => {
    const e = (() => {
      try {
        decodeV1Predict(new TextEncoder().encode('{"instances": [1,'), 'm', sig(X), 0);
      } catch (err) {
        return err as GatewayError;
      }
      return null;
    })();
    expect(e?.code).toBe('SY_ERR_MALFORMED_JSON');
    expectInvalid(() => decode([1]), 'the request body must be a JSON object {"instances": [...]}, got an array');
    expectInvalid(() => decode({ inputs: [1] }), 'the request has no "instances"; expected {"instances": [...]} with one entry per row');
    expectInvalid(() => decode({ instances: 'a' }), '"instances" must be an array, got string "a"');
    expectInvalid(() => decode({ instances: [] }), '"instances" is empty; expected at least one row');
  });

  it('multi-input: instances must be objects with exactly the input names', () => {
    const s = sig({ name: 'a', datatype: 'FP32', shape: [-1] }, { name: 'b', datatype: 'FP32', shape: [-1] });
    expectInvalid(() => decode({ instances: [[1, 2]] }, s), 'instances[0] must be an object keyed by input name ("a", "b"), got an array');
    expectInvalid(() => decode({ instances: [{ a: 1, b: 2 }, { a: 1 }] }, s), 'instances[1]: missing input "b"; expected keys "a", "b"');
    expectInvalid(() => decode({ instances: [{ a: 1, b: 2, c: 3 }] }, s), 'instances[0]: unknown input "c"; the model takes "a", "b"');
  });

  it('every instance must have the shape of the first', () => {
    expectInvalid(() => decode({ instances: [[1, 2], [3]] }), 'input "x": instances[1] is not shaped like instances[0] ([2]); every instance must have the same shape');
    expectInvalid(() => decode({ instances: [[1, 2], [3, [4]]] }), 'input "x": instances[1] is not shaped like instances[0] ([2]); every instance must have the same shape');
    expectInvalid(() => decode({ instances: [[1, 2], 3] }), 'input "x": instances[1] is not shaped like instances[0] ([2]); every instance must have the same shape');
  });

  it('a huge first row with small later rows fails before allocating for all rows', () => {
    const rows: unknown[] = [new Array(1000).fill(0)];
    for (let i = 0; i < 2000; i++) rows.push([]);
    expectInvalid(() => decode({ instances: rows }), 'input "x": instances[1] is not shaped like instances[0] ([1000]); every instance must have the same shape');
  });

  it('names the bad element by instance and position in the row', () => {
    expectInvalid(() => decode({ instances: [[1, 2], [3, 'a']] }), 'input "x" instances[1]: element 1 is "a", expected a number (FP32)');
    expectInvalid(
      () => decode({ instances: [{ b64: 5 }] }, sig({ name: 'x', datatype: 'BYTES', shape: [-1] })),
      'input "x" instances[0]: element 0 is {"b64":5}, expected a string or {"b64": "<base64>"} (BYTES)',
    );
  });
});

describe('encodeV1Predict', () => {
  it('one output: each prediction is that output\'s row, nested per its shape', () => {
    const t = new Tensor('y', 'FP32', [2, 2, 2], new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(predictions([t])).toEqual([
      [[1, 2], [3, 4]],
      [[5, 6], [7, 8]],
    ]);
  });

  it('rank-1 output: each prediction is a scalar', () => {
    expect(predictions([new Tensor('y', 'INT64', [3], new BigInt64Array([1n, -2n, 3n]))])).toEqual([1, -2, 3]);
    expect(predictions([new Tensor('y', 'BOOL', [2], new Uint8Array([1, 0]))])).toEqual([true, false]);
  });

  it('several outputs: each prediction is an object keyed by output name', () => {
    const p = predictions([
      new Tensor('label', 'BYTES', [2], [new TextEncoder().encode('cat'), new TextEncoder().encode('dog')]),
      new Tensor('scores', 'FP16', [2, 2], new Uint16Array([0x3c00, 0x3800, 0x3400, 0x7e00])),
    ]);
    expect(p).toEqual([
      { label: 'cat', scores: [1, 0.5] },
      { label: 'dog', scores: [0.25, 'NaN'] },
    ]);
  });

  it('empty outputs and zero rows', () => {
    expect(predictions([])).toEqual([]);
    expect(predictions([new Tensor('y', 'FP32', [0, 3], new Float32Array(0))])).toEqual([]);
    expect(predictions([new Tensor('y', 'FP32', [2, 0], new Float32Array(0))])).toEqual([[], []]);
  });

  it('outputs that disagree on the batch dimension are an inference failure', () => {
    let err: unknown = null;
    try {
      encodeV1Predict(
        new InferResponse('r', 'm', '1', [new Tensor('a', 'FP32', [2], new Float32Array(2)), new Tensor('b', 'FP32', [3], new Float32Array(3))]),
      );
    } catch (e) {
      err = e;
    }
    expect((err as GatewayError).code).toBe('SY_ERR_INFERENCE_FAILED');
    expect((err as GatewayError).message).toBe(
      'cannot write v1 predictions: output "b" has shape [3] but "a" has 2 rows; every output needs the batch as dim 0',
    );
  });

  it('decode → encode gives the instances back', () => {
    const instances = [
      [[0.5, -1], [2, 3]],
      [[4, 5], [6, 'Infinity']],
    ];
    const req = decode({ instances }, sig({ name: 'x', datatype: 'FP64', shape: [-1, 2, 2] }));
    expect(predictions(req.inputs)).toEqual(instances);
  });
});
