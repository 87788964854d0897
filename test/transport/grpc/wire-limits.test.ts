import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError, MAX_BYTES_ELEMENTS } from '../../../src/core/index.js';
import { ModelInferRequestSchema } from '../../../src/gen/grpc_service_pb.js';
import { MAX_PARAMETERS, MAX_RANK, MAX_TENSORS, MAX_TYPED_ELEMENTS, checkInferRequestWire } from '../../../src/transport/grpc/wire-limits.js';

type Init = Parameters<typeof create<typeof ModelInferRequestSchema>>[1];
const wire = (init: Init) => toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, init));

function refusal(bytes: Uint8Array): string {
  try {
    checkInferRequestWire(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    expect((e as GatewayError).code).toBe('SY_ERR_INVALID_INPUT');
    return (e as GatewayError).message;
  }
  throw new Error('expected a refusal');
}

function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}

describe('ModelInferRequest wire limits', () => {
  it('accepts every request within the limits (property)', () => {
    const tensor = fc.record({
      name: fc.string({ maxLength: 8 }),
      datatype: fc.constantFrom('FP32', 'INT64', 'BYTES'),
      shape: fc.array(fc.bigInt({ min: -1n, max: 1n << 40n }), { maxLength: 8 }),
      contents: fc.record({ fp32Contents: fc.array(fc.float({ noNaN: true }), { maxLength: 20 }), int64Contents: fc.array(fc.bigInt({ min: -(1n << 62n), max: 1n << 62n }), { maxLength: 20 }), bytesContents: fc.array(fc.uint8Array({ maxLength: 5 }), { maxLength: 20 }) }),
    });
    fc.assert(
      fc.property(fc.array(tensor, { maxLength: 6 }), fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), fc.string({ maxLength: 20 }), (inputs, raw, name) => {
        checkInferRequestWire(wire({ modelName: name, id: 'x', inputs, rawInputContents: raw, outputs: [{ name: 'o', parameters: { k: { parameterChoice: { case: 'int64Param', value: 3n } } } }], parameters: { p: { parameterChoice: { case: 'boolParam', value: true } } } }));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses too many inputs, outputs, raw entries and parameters, naming the count', () => {
    expect(refusal(wire({ inputs: Array.from({ length: MAX_TENSORS + 1 }, () => ({})) }))).toBe(`ModelInferRequest has ${MAX_TENSORS + 1} inputs; at most ${MAX_TENSORS} are accepted`);
    expect(refusal(wire({ outputs: Array.from({ length: MAX_TENSORS + 1 }, () => ({ name: 'o' })) }))).toMatch(/has 1025 outputs/);
    expect(refusal(wire({ rawInputContents: Array.from({ length: MAX_TENSORS + 1 }, () => new Uint8Array(0)) }))).toMatch(/has 1025 raw_input_contents entries/);
    const params = Object.fromEntries(Array.from({ length: MAX_PARAMETERS + 1 }, (_, i) => [`p${i}`, { parameterChoice: { case: 'boolParam' as const, value: true } }]));
    expect(refusal(wire({ parameters: params }))).toMatch(/has 257 parameters;/);
    expect(refusal(wire({ inputs: [{ name: 'x', parameters: params }] }))).toMatch(/has 257 parameters in inputs\[0\];/);
    expect(refusal(wire({ outputs: [{ name: 'o', parameters: params }] }))).toMatch(/has 257 parameters in outputs\[0\];/);
  });

  it('refuses a shape of more than MAX_RANK dims, and too many typed or BYTES elements', () => {
    expect(refusal(wire({ inputs: [{ name: 'x', shape: Array.from({ length: MAX_RANK + 1 }, () => 1n) }] }))).toBe(`ModelInferRequest has ${MAX_RANK + 1} shape dims in inputs[0]; at most ${MAX_RANK} are accepted`);
    expect(refusal(wire({ inputs: [{ name: 'x', contents: { int64Contents: new Array<bigint>(MAX_TYPED_ELEMENTS + 1).fill(0n) } }] }))).toMatch(/has 4194305 elements in typed contents/);
    expect(refusal(wire({ inputs: [{ name: 's', contents: { bytesContents: Array.from({ length: MAX_BYTES_ELEMENTS + 1 }, () => new Uint8Array(0)) } }] }))).toMatch(/has 1048577 bytes_contents elements \(counted to inputs\[0\]\)/);
  });

  it('counts bytes_contents elements over the whole request, not per input', () => {
    // written by hand: 600,000 empty bytes_contents (tag 0x42, length 0) made through create() take seconds
    const contents = Buffer.alloc(1_200_000);
    for (let i = 0; i < contents.length; i += 2) contents[i] = 0x42;
    const field = (tag: number, payload: Uint8Array) => Buffer.concat([Buffer.from([tag]), varint(payload.length), payload]);
    // InferInputTensor { name: "s" (field 1), contents (field 5) }, twice as ModelInferRequest.inputs (field 5)
    const input = field(0x2a, Buffer.concat([field(0x0a, Buffer.from('s')), field(0x2a, contents)]));
    const twice = Buffer.concat([input, input]);
    expect(refusal(twice)).toMatch(/has 1048577 bytes_contents elements \(counted to inputs\[1\]\)/);
  });

  it('refuses malformed framing instead of reading past the end', () => {
    const ok = wire({ modelName: 'tabular', inputs: [{ name: 'x', shape: [1n, 16n] }] });
    expect(refusal(ok.subarray(0, ok.length - 3))).toMatch(/is malformed: /);
    expect(refusal(Uint8Array.of(0x0b))).toMatch(/wire type 3/);
  });
});
