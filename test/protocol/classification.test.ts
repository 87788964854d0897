import { describe, expect, it } from 'vitest';
import { GatewayError, InferRequest, InferResponse, Tensor, toHalf, type RequestedOutput } from '../../src/core/index.js';
import { applyClassification, planClassification, type ClassificationModel } from '../../src/protocol/index.js';
import { classifyTensor, printfFixed } from '../../src/protocol/classification.js';
import { parseLabels } from '../../src/repository/labels.js';

const text = (t: Tensor): string[] => (t.data as Uint8Array[]).map((b) => new TextDecoder().decode(b));

describe('printfFixed: floats as std::to_string (printf "%f") writes them', () => {
  it('matches glibc, exact ties rounded to even (values from Python "%f" % v)', () => {
    const cases: [number, string][] = [
      [0.5, '0.500000'],
      [Math.fround(0.1), '0.100000'],
      [Math.fround(0.6123456789), '0.612346'],
      [0.0078125, '0.007812'], // 1/128: a tie, the 6th digit 2 is even
      [0.0234375, '0.023438'], // 3/128: a tie, rounds up to the even 8
      [1.0000005, '1.000001'], // not a tie in binary
      [0.9999995, '1.000000'],
      [-0, '-0.000000'],
      [-4e-7, '-0.000000'],
      [2.5e-7, '0.000000'],
      [1e22, '10000000000000000000000.000000'],
      [3.4028234663852886e38, '340282346638528859811704183484516925440.000000'],
      [-1234.5, '-1234.500000'],
    ];
    for (const [v, want] of cases) expect(printfFixed(v), String(v)).toBe(want);
  });

  it('writes nan, inf and -inf as glibc does', () => {
    expect([printfFixed(NaN), printfFixed(Infinity), printfFixed(-Infinity)]).toEqual(['nan', 'inf', '-inf']);
  });
});

describe('classifyTensor', () => {
  it('answers top-k per batch item as "value:index:label", highest first', () => {
    const t = new Tensor('p', 'FP32', [2, 4], new Float32Array([0.1, 0.6, 0.05, 0.25, 0.7, 0.1, 0.15, 0.05]));
    const c = classifyTensor(t, 2, ['a', 'b', 'c', 'd'], true);
    expect(c.datatype).toBe('BYTES');
    expect(c.shape).toEqual([2, 2]);
    expect(c.name).toBe('p');
    expect(text(c)).toEqual(['0.600000:1:b', '0.250000:3:d', '0.700000:0:a', '0.150000:2:c']);
  });

  it('clamps k to the class count, as Triton does, and leaves indices without a label bare', () => {
    const t = new Tensor('p', 'FP64', [1, 3], new Float64Array([1, 3, 2]));
    const c = classifyTensor(t, 10, ['only-one'], true);
    expect(c.shape).toEqual([1, 3]);
    expect(text(c)).toEqual(['3.000000:1', '2.000000:2', '1.000000:0:only-one']);
  });

  it('without a batch dimension (max_batch_size 0) classifies the whole tensor into shape [k]', () => {
    const t = new Tensor('p', 'INT32', [2, 2], new Int32Array([5, -7, 9, 0]));
    const c = classifyTensor(t, 3, null, false);
    expect(c.shape).toEqual([3]);
    expect(text(c)).toEqual(['9:2', '5:0', '0:3']);
  });

  it('prints integers in decimal (INT64 beyond 2^53 exactly), FP16 as its value, ties in index order, NaN last', () => {
    const big = classifyTensor(new Tensor('p', 'INT64', [1, 2], new BigInt64Array([2n ** 62n + 1n, -1n])), 2, null, true);
    expect(text(big)).toEqual(['4611686018427387905:0', '-1:1']);
    const half = classifyTensor(new Tensor('p', 'FP16', [1, 3], new Uint16Array([toHalf(0.5), toHalf(NaN), toHalf(0.5)])), 3, null, true);
    expect(text(half)).toEqual(['0.500000:0', '0.500000:2', 'nan:1']);
  });

  it('an empty batch gives shape [0, k]', () => {
    const c = classifyTensor(new Tensor('p', 'FP32', [0, 3], new Float32Array(0)), 2, null, true);
    expect(c.shape).toEqual([0, 2]);
    expect(c.data).toEqual([]);
  });
});

function request(outputs: RequestedOutput[] | null): InferRequest {
  const r = new InferRequest('m', null, [], 'rest', 0);
  r.outputs = outputs;
  return r;
}

const MODEL: ClassificationModel = {
  signature: {
    inputs: [],
    outputs: [
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      { name: 'flag', datatype: 'BOOL', shape: [-1, 1] },
      { name: 'text', datatype: 'BYTES', shape: [-1, 1] },
    ],
  },
  maxBatchSize: 8,
  labels: new Map([['probabilities', ['low', 'medium', 'high']]]),
};

describe('planClassification / applyClassification', () => {
  it('plans nothing (null) when no output asks for classification', () => {
    expect(planClassification(request(null), MODEL)).toBeNull();
    expect(planClassification(request([{ name: 'probabilities', binary: false, parameters: null }]), MODEL)).toBeNull();
    expect(planClassification(request([{ name: 'probabilities', binary: true, parameters: { binary_data: true } }]), MODEL)).toBeNull();
  });

  it("replaces only the classified outputs, in a copy of the response, with the model's labels", () => {
    const plan = planClassification(request([{ name: 'probabilities', binary: false, parameters: { classification: 1 } }, { name: 'flag', binary: false, parameters: null }]), MODEL);
    expect(plan).not.toBeNull();
    const probs = new Tensor('probabilities', 'FP32', [1, 3], new Float32Array([0.2, 0.3, 0.5]));
    const flag = new Tensor('flag', 'BOOL', [1, 1], new Uint8Array([1]));
    const resp = new InferResponse('id', 'm', '1', [probs, flag]);
    resp.parameters = { route: 'r' };
    resp.batchSize = 4;
    const out = applyClassification(plan!, resp);
    expect(out).not.toBe(resp);
    expect(resp.outputs[0]).toBe(probs);
    expect(out.outputs[1]).toBe(flag);
    expect(text(out.outputs[0])).toEqual(['0.500000:2:high']);
    expect(out.outputs[0].shape).toEqual([1, 1]);
    expect([out.id, out.modelName, out.modelVersion, out.parameters, out.batchSize]).toEqual(['id', 'm', '1', { route: 'r' }, 4]);
  });

  it('refuses classification of BOOL and BYTES outputs, bad counts, and shared memory outputs', () => {
    const fails = (ro: RequestedOutput): GatewayError => {
      try {
        planClassification(request([ro]), MODEL);
      } catch (e) {
        expect(e).toBeInstanceOf(GatewayError);
        return e as GatewayError;
      }
      throw new Error('expected an error');
    };
    expect(fails({ name: 'flag', binary: false, parameters: { classification: 2 } }).message).toBe(
      'output "flag": classification needs a numeric output, and "flag" is BOOL; request it without parameters.classification',
    );
    expect(fails({ name: 'text', binary: false, parameters: { classification: 2 } }).httpStatus).toBe(400);
    expect(fails({ name: 'probabilities', binary: false, parameters: { classification: -1 } }).message).toMatch(/must be a positive integer/);
    expect(fails({ name: 'probabilities', binary: false, parameters: { classification: 2, shared_memory_region: 'r' } }).message).toMatch(/cannot be written to shared memory/);
  });
});

describe('parseLabels', () => {
  it('one label per line, LF or CRLF, a final newline starts no label, empty lines kept', () => {
    expect(parseLabels('a\nb\n')).toEqual(['a', 'b']);
    expect(parseLabels('a\r\nb')).toEqual(['a', 'b']);
    expect(parseLabels('a\n\nc\n')).toEqual(['a', '', 'c']);
    expect(parseLabels('')).toEqual([]);
  });
});
