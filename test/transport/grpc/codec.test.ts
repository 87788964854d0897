import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATATYPES, InferResponse, Tensor, elementCount, toHalf, type Datatype, type InferRequest, type TensorData } from '../../../src/core/index.js';
import { ModelInferRequestSchema, ModelInferResponseSchema, type InferTensorContentsSchema, type ModelInferRequest_InferInputTensorSchema, type ModelInferResponse } from '../../../src/gen/grpc_service_pb.js';
import { decodeModelInferRequest, encodeModelInferResponse, hasTypedContents, writeContents } from '../../../src/transport/grpc/index.js';
import { modelInferResponseBytes } from '../../../src/transport/grpc/encode-response.js';

type RequestInit = MessageInitShape<typeof ModelInferRequestSchema>;

/** What the server decodes after the request went over the wire. */
function decodeWire(init: RequestInit): InferRequest {
  const bytes = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, init));
  return decodeModelInferRequest(fromBinary(ModelInferRequestSchema, bytes), 0);
}

/** What a client decodes from the bytes the server sends (the hand-written encoder's). */
function responseWire(resp: InferResponse, req: InferRequest): ModelInferResponse {
  return fromBinary(ModelInferResponseSchema, modelInferResponseBytes(resp, req));
}

/** The same message encoded by @bufbuild/protobuf from the init object: the reference. */
function referenceBytes(resp: InferResponse, req: InferRequest): Uint8Array {
  return toBinary(ModelInferResponseSchema, create(ModelInferResponseSchema, encodeModelInferResponse(resp, req)));
}

/** Raw little-endian bytes of tensor data, BYTES as 4-byte length-prefixed elements (built independently of the server). */
function rawOf(dt: Datatype, data: TensorData): Uint8Array {
  if (dt !== 'BYTES') {
    const d = data as Exclude<TensorData, Uint8Array[]>;
    return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  }
  const els = data as Uint8Array[];
  const out = new Uint8Array(els.reduce((n, e) => n + 4 + e.byteLength, 0));
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const e of els) {
    dv.setUint32(off, e.byteLength, true);
    out.set(e, off + 4);
    off += 4 + e.byteLength;
  }
  return out;
}

/** Elements of tensor data as plain comparable values. */
function plain(data: TensorData): unknown[] {
  return Array.from(data as ArrayLike<unknown>, (v) => (v instanceof Uint8Array ? Array.from(v) : v));
}

function valuesOf(dt: Datatype, n: number): fc.Arbitrary<TensorData> {
  const ints = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: n, maxLength: n });
  const bigs = (min: bigint, max: bigint) => fc.array(fc.bigInt({ min, max }), { minLength: n, maxLength: n });
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
      return bigs(0n, 2n ** 64n - 1n).map((a) => BigUint64Array.from(a));
    case 'INT64':
      return bigs(-(2n ** 63n), 2n ** 63n - 1n).map((a) => BigInt64Array.from(a));
    case 'FP16':
      return ints(0, 0xffff).map((a) => Uint16Array.from(a));
    case 'FP32':
      return fc.array(fc.float({ noNaN: true }), { minLength: n, maxLength: n }).map((a) => Float32Array.from(a));
    case 'FP64':
      return fc.array(fc.double({ noNaN: true }), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a));
    case 'BYTES':
      return fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: n, maxLength: n });
  }
}

const tensorCase = fc
  .record({ dt: fc.constantFrom(...DATATYPES), shape: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }) })
  .chain(({ dt, shape }) => valuesOf(dt, elementCount(shape)).map((data) => ({ dt, shape, data })));

describe('ModelInferRequest → InferRequest', () => {
  it('reads every datatype from raw_input_contents, bit for bit (property)', () => {
    fc.assert(
      fc.property(tensorCase, ({ dt, shape, data }) => {
        const req = decodeWire({
          modelName: 'm',
          inputs: [{ name: 'in', datatype: dt, shape: shape.map(BigInt) }],
          rawInputContents: [rawOf(dt, data)],
        });
        const t = req.inputs[0];
        expect(t.datatype).toBe(dt);
        expect(t.shape).toEqual(shape);
        expect(plain(t.data)).toEqual(plain(data));
        expect(req.binaryOutputs).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reads every datatype but FP16 from its typed contents field (property)', () => {
    fc.assert(
      fc.property(
        tensorCase.filter((c) => hasTypedContents(c.dt)),
        ({ dt, shape, data }) => {
          const req = decodeWire({ modelName: 'm', inputs: [{ name: 'in', datatype: dt, shape: shape.map(BigInt), contents: writeContents(dt, data) }] });
          expect(plain(req.inputs[0].data)).toEqual(plain(data));
          expect(req.binaryOutputs).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('takes typed contents from the field of each datatype', () => {
    const req = decodeWire({
      modelName: 'm',
      inputs: [
        { name: 'b', datatype: 'BOOL', shape: [2n], contents: { boolContents: [true, false] } },
        { name: 'i8', datatype: 'INT8', shape: [2n], contents: { intContents: [-128, 127] } },
        { name: 'u16', datatype: 'UINT16', shape: [1n], contents: { uintContents: [65535] } },
        { name: 'i64', datatype: 'INT64', shape: [2n], contents: { int64Contents: [-(2n ** 63n), 2n ** 53n + 1n] } },
        { name: 'u64', datatype: 'UINT64', shape: [1n], contents: { uint64Contents: [2n ** 64n - 1n] } },
        { name: 'f32', datatype: 'FP32', shape: [1, 2].map(BigInt), contents: { fp32Contents: [0.5, -2] } },
        { name: 'f64', datatype: 'FP64', shape: [1n], contents: { fp64Contents: [Math.PI] } },
        { name: 's', datatype: 'BYTES', shape: [2n], contents: { bytesContents: [new TextEncoder().encode('héllo'), new Uint8Array([0, 255])] } },
      ],
    });
    const data = Object.fromEntries(req.inputs.map((t) => [t.name, t.data]));
    expect(data.b).toEqual(new Uint8Array([1, 0]));
    expect(data.i8).toEqual(new Int8Array([-128, 127]));
    expect(data.u16).toEqual(new Uint16Array([65535]));
    expect(data.i64).toEqual(new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n]));
    expect(data.u64).toEqual(new BigUint64Array([2n ** 64n - 1n]));
    expect(data.f32).toEqual(new Float32Array([0.5, -2]));
    expect(data.f64).toEqual(new Float64Array([Math.PI]));
    expect(new TextDecoder().decode((data.s as Uint8Array[])[0])).toBe('héllo');
    expect(req.inputs.find((t) => t.name === 'f32')!.shape).toEqual([1, 2]);
  });

  it('reads FP16 from raw contents as half-precision bits', () => {
    const halves = Uint16Array.from([1, -2.5, 65504, 0.1], toHalf);
    const req = decodeWire({ modelName: 'm', inputs: [{ name: 'h', datatype: 'FP16', shape: [4n] }], rawInputContents: [rawOf('FP16', halves)] });
    expect(req.inputs[0].data).toEqual(halves);
  });

  it('carries id, version, priority, timeout, parameters and requested outputs', () => {
    const req = decodeWire({
      modelName: 'tabular',
      modelVersion: '2',
      id: 'req-7',
      parameters: { priority: { parameterChoice: { case: 'uint64Param', value: 2n } }, timeout: { parameterChoice: { case: 'int64Param', value: 1500n } }, tag: { parameterChoice: { case: 'stringParam', value: 'a' } } },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1n], contents: { fp32Contents: [1] } }],
      outputs: [{ name: 'label' }],
    });
    expect(req.modelName).toBe('tabular');
    expect(req.modelVersion).toBe('2');
    expect(req.id).toBe('req-7');
    expect(req.priority).toBe(2);
    expect(req.timeoutUs).toBe(1500);
    expect(req.parameters).toEqual({ priority: 2, timeout: 1500, tag: 'a' });
    expect(req.outputs).toEqual([{ name: 'label', binary: false, parameters: null }]);
    expect(req.protocol).toBe('grpc');
    expect(decodeWire({ modelName: 'tabular', inputs: [] }).modelVersion).toBeNull();
  });

  type InputInit = MessageInitShape<typeof ModelInferRequest_InferInputTensorSchema>;
  const x = (extra: { name?: string; datatype?: string; shape?: bigint[]; contents?: MessageInitShape<typeof InferTensorContentsSchema> } = {}): InputInit => ({
    name: 'x',
    datatype: 'FP32',
    shape: [2n],
    ...extra,
  });
  it.each<[string, RequestInit, RegExp]>([
    ['too few typed elements', { modelName: 'm', inputs: [x({ contents: { fp32Contents: [1] } })] }, /input "x": shape needs 2 elements, got 1 in contents.fp32_contents/],
    ['the wrong contents field', { modelName: 'm', inputs: [x({ contents: { intContents: [1, 2] } })] }, /datatype FP32 takes its elements in contents.fp32_contents, but the request filled contents.int_contents/],
    ['FP16 in typed contents', { modelName: 'm', inputs: [{ name: 'h', datatype: 'FP16', shape: [1n], contents: {} }] }, /FP16 has no typed contents field; send its elements in raw_input_contents/],
    ['INT8 out of range', { modelName: 'm', inputs: [{ name: 'i', datatype: 'INT8', shape: [1n], contents: { intContents: [200] } }] }, /contents.int_contents\[0\] is 200, outside the range of INT8/],
    ['raw bytes of the wrong length', { modelName: 'm', inputs: [x()], rawInputContents: [new Uint8Array(7)] }, /raw_input_contents\[0\] has 7 bytes but shape \[2\] of FP32 needs 8/],
    ['fewer raw entries than inputs', { modelName: 'm', inputs: [x(), { ...x(), name: 'y' }], rawInputContents: [new Uint8Array(8)] }, /1 raw_input_contents for 2 inputs/],
    ['raw and typed mixed', { modelName: 'm', inputs: [x({ contents: { fp32Contents: [1, 2] } })], rawInputContents: [new Uint8Array(8)] }, /has contents while the request uses raw_input_contents/],
    ['a truncated BYTES element', { modelName: 'm', inputs: [{ name: 's', datatype: 'BYTES', shape: [1n] }], rawInputContents: [new Uint8Array([5, 0, 0, 0, 1])] }, /input "s" \(raw_input_contents\[0\]\): BYTES element 0 has length 5/],
    [
      'raw BYTES entries of more than 2^20 elements together',
      { modelName: 'm', inputs: ['a', 'b'].map((name) => ({ name, datatype: 'BYTES', shape: [600_000n] })), rawInputContents: [new Uint8Array(2_400_000), new Uint8Array(2_400_000)] },
      /input "b": shape \[600000\] brings the request's BYTES elements to 1200000; at most 1048576 are accepted in one request, all inputs together/,
    ],
    ['a negative dimension', { modelName: 'm', inputs: [x({ shape: [-1n] })] }, /shape \[-1\] has dimension -1 at 0; expected non-negative integers/],
    ['an unknown datatype', { modelName: 'm', inputs: [x({ datatype: 'FLOAT' })] }, /unknown datatype "FLOAT"; expected one of BOOL/],
    ['an input without a name', { modelName: 'm', inputs: [x({ name: '' })] }, /inputs\[0\]: missing name/],
    ['a negative priority', { modelName: 'm', inputs: [], parameters: { priority: { parameterChoice: { case: 'int64Param', value: -1n } } } }, /parameters.priority must be a non-negative integer, got -1/],
    ['a timeout given as text', { modelName: 'm', inputs: [], parameters: { timeout: { parameterChoice: { case: 'stringParam', value: 'soon' } } } }, /parameters.timeout \(microseconds\) must be a non-negative integer, got "soon"/],
  ])('refuses %s with INVALID_ARGUMENT and says what was expected', (_what, init, message) => {
    let err: unknown;
    try {
      decodeWire(init);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SY_ERR_INVALID_INPUT', grpcStatus: 3 });
    expect((err as Error).message).toMatch(message);
  });

  it('refuses a malformed model name or version', () => {
    expect(() => decodeWire({ modelName: '../x', inputs: [] })).toThrow(/invalid model name/);
    expect(() => decodeWire({ modelName: 'm', modelVersion: 'latest', inputs: [] })).toThrow(/invalid model version "latest"/);
  });
});

describe('InferResponse → ModelInferResponse', () => {
  function requestFor(raw: boolean, outputs: string[] | null = null): InferRequest {
    const req = decodeWire({ modelName: 'm', inputs: [] });
    req.binaryOutputs = raw;
    req.outputs = outputs === null ? null : outputs.map((name) => ({ name, binary: raw, parameters: null }));
    return req;
  }

  /** The elements a client reads back from output i. */
  function readOutput(m: ModelInferResponse, i: number): unknown[] {
    const o = m.outputs[i];
    const dt = o.datatype as Datatype;
    if (m.rawOutputContents.length > 0) {
      const bytes = m.rawOutputContents[i];
      const req = decodeWire({ modelName: 'm', inputs: [{ name: 'o', datatype: dt, shape: o.shape }], rawInputContents: [bytes] });
      return plain(req.inputs[0].data);
    }
    const req = decodeWire({ modelName: 'm', inputs: [{ name: 'o', datatype: dt, shape: o.shape, contents: o.contents }] });
    return plain(req.inputs[0].data);
  }

  it('answers in raw_output_contents whichever form the request used, as Triton does (property)', () => {
    fc.assert(
      fc.property(tensorCase, fc.boolean(), ({ dt, shape, data }, raw) => {
        const resp = new InferResponse('id-1', 'm', '3', [new Tensor('out', dt, shape, data)]);
        const m = responseWire(resp, requestFor(raw));
        expect(m.id).toBe('id-1');
        expect(m.modelVersion).toBe('3');
        expect(m.outputs[0].datatype).toBe(dt);
        expect(m.outputs[0].shape).toEqual(shape.map(BigInt));
        expect(m.rawOutputContents.length).toBe(1);
        expect(m.outputs[0].contents).toBeUndefined();
        expect(readOutput(m, 0)).toEqual(plain(data));
      }),
      { numRuns: 300 },
    );
  });

  it('lays out BYTES outputs as 4-byte little-endian lengths and bytes', () => {
    const resp = new InferResponse('r', 'm', '1', [new Tensor('s', 'BYTES', [2], [new Uint8Array([104, 105]), new Uint8Array(0)])]);
    const m = responseWire(resp, requestFor(true));
    expect(Array.from(m.rawOutputContents[0])).toEqual([2, 0, 0, 0, 104, 105, 0, 0, 0, 0]);
  });

  it('sends only the requested outputs, in the order asked for', () => {
    const resp = new InferResponse('r', 'm', '1', [new Tensor('a', 'FP32', [1], new Float32Array([1])), new Tensor('b', 'INT64', [1], new BigInt64Array([7n]))]);
    const m = responseWire(resp, requestFor(false, ['b']));
    expect(m.outputs.map((o) => o.name)).toEqual(['b']);
    expect(readOutput(m, 0)).toEqual([7n]);
    const both = responseWire(resp, requestFor(true, ['b', 'a']));
    expect(both.outputs.map((o) => o.name)).toEqual(['b', 'a']);
    expect(both.rawOutputContents.map((r) => r.byteLength)).toEqual([8, 4]);
  });

  it('writes the same bytes as @bufbuild/protobuf from the init object (property)', () => {
    const paramValue = fc.oneof(fc.boolean(), fc.integer(), fc.double({ noNaN: true }), fc.string(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
    const params = fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), paramValue, { maxKeys: 4 }), { nil: null });
    fc.assert(
      fc.property(fc.array(tensorCase, { minLength: 0, maxLength: 3 }), params, params, fc.string(), fc.string(), fc.boolean(), (cases, rp, tp, id, version, raw) => {
        const tensors = cases.map(({ dt, shape, data }, i) => new Tensor(`o${i}é`, dt, shape, data, tp));
        const resp = new InferResponse(id, 'mödel', version, tensors);
        resp.parameters = rp;
        const req = requestFor(raw);
        expect(Buffer.from(modelInferResponseBytes(resp, req)).equals(Buffer.from(referenceBytes(resp, req)))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('adds extra response parameters, the stream\'s final flag, to the response\'s own', () => {
    const resp = new InferResponse('r', 'm', '1', []);
    resp.parameters = { a: 1 };
    const m = fromBinary(ModelInferResponseSchema, modelInferResponseBytes(resp, requestFor(true), { triton_final_response: true }));
    expect(Object.keys(m.parameters)).toEqual(['a', 'triton_final_response']);
    expect(m.parameters.triton_final_response.parameterChoice).toEqual({ case: 'boolParam', value: true });
  });

  it('writes response and tensor parameters as InferParameters', () => {
    const resp = new InferResponse('r', 'm', '1', [new Tensor('a', 'FP32', [1], new Float32Array([1]), { binary_data_size: 4, note: 'x' })]);
    resp.parameters = { sequence_end: true, count: 3, ratio: 0.5 };
    const m = responseWire(resp, requestFor(true));
    expect(m.parameters.sequence_end.parameterChoice).toEqual({ case: 'boolParam', value: true });
    expect(m.parameters.count.parameterChoice).toEqual({ case: 'int64Param', value: 3n });
    expect(m.parameters.ratio.parameterChoice).toEqual({ case: 'doubleParam', value: 0.5 });
    expect(Object.keys(m.outputs[0].parameters)).toEqual(['note']);
  });
});
