/**
 * The seed corpus: well-formed requests of every shape the decoders take (each datatype, JSON
 * and binary data, nested data, parameters, outputs, shared memory, classification), as
 * Triton's clients send them, plus a few near misses. `npm run fuzz:seeds` writes them to
 * test/fuzz/corpus/<target>/, which is committed; the fuzzer reads that folder (so a crash
 * input copied there stays a regression case) and grows its own corpus from it in memory.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelInferRequestSchema } from '../../src/gen/grpc_service_pb.js';
import { joinBinaryInput } from './targets.js';

type Init = Parameters<typeof create<typeof ModelInferRequestSchema>>[1];

const text = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function restJsonSeeds(): Record<string, Uint8Array> {
  const x = (datatype: string, shape: number[], data: unknown, parameters?: unknown) => ({ name: 'x', datatype, shape, data, ...(parameters === undefined ? {} : { parameters }) });
  return {
    'fp32.json': text({ id: 'r1', inputs: [x('FP32', [2, 2], [1, 2.5, -3, 4e10])] }),
    'fp32-nested.json': text({ inputs: [x('FP32', [2, 2], [[1, 2], [3, 4]])], outputs: [{ name: 'y', parameters: { binary_data: true } }] }),
    'fp16-special.json': text('{"inputs":[{"name":"h","datatype":"FP16","shape":[4],"data":[NaN,-Infinity,"Infinity",0.5]}]}'),
    'fp64.json': text({ inputs: [x('FP64', [3], [1e308, -0.0, 5e-324])] }),
    'ints.json': text({ inputs: [x('INT8', [2], [-128, 127]), { ...x('UINT16', [2], [0, 65535]), name: 'u' }, { ...x('INT32', [1], [-2147483648]), name: 'i' }] }),
    'int64-exact.json': text('{"inputs":[{"name":"x","datatype":"INT64","shape":[3],"data":[9223372036854775807,-9223372036854775808,"12345678901234567890"]}]}'),
    'uint64.json': text('{"inputs":[{"name":"x","datatype":"UINT64","shape":[2],"data":[18446744073709551615,"0"]}]}'),
    'bool.json': text({ inputs: [x('BOOL', [4], [true, false, 1, 0])] }),
    'bytes-utf8.json': text({ inputs: [x('BYTES', [3], ['a', '', 'ünï'])] }),
    'bytes-base64.json': text({ inputs: [x('BYTES', [2], ['AAE=', ''], { content_type: 'base64' })] }),
    'params.json': text({ id: 'p', parameters: { priority: 2, timeout: 1000, binary_data_output: true, sticky: 'k' }, inputs: [x('FP32', [1], [1])], outputs: [{ name: 'y', parameters: { classification: 3 } }] }),
    'shm.json': text({ inputs: [{ name: 'x', datatype: 'FP32', shape: [4], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 16, shared_memory_offset: 0 } }], outputs: [{ name: 'y', parameters: { shared_memory_region: 'o', shared_memory_byte_size: 16 } }] }),
    'empty-and-scalar.json': text({ inputs: [x('FP32', [0], []), { ...x('INT32', [], [7]), name: 's' }] }),
    'bad-element.json': text({ inputs: [x('UINT8', [2], [1, 256])] }),
    'bad-count.json': text({ inputs: [x('FP32', [3], [1, 2])] }),
  };
}

function binarySeed(inputs: { name: string; datatype: string; shape: number[]; bytes?: Uint8Array; data?: unknown }[], outputs?: unknown): Uint8Array {
  const json = {
    inputs: inputs.map(({ name, datatype, shape, bytes, data }) => (bytes === undefined ? { name, datatype, shape, data } : { name, datatype, shape, parameters: { binary_data_size: bytes.byteLength } })),
    ...(outputs === undefined ? {} : { outputs }),
  };
  return joinBinaryInput(Buffer.from(JSON.stringify(json)), Buffer.concat(inputs.flatMap((i) => (i.bytes === undefined ? [] : [i.bytes]))));
}

function bytesElements(...els: string[]): Uint8Array {
  return Buffer.concat(els.flatMap((e) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(Buffer.byteLength(e));
    return [len, Buffer.from(e)];
  }));
}

function restBinarySeeds(): Record<string, Uint8Array> {
  const f32 = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
  return {
    'fp32.bin': binarySeed([{ name: 'x', datatype: 'FP32', shape: [2, 2], bytes: f32 }], [{ name: 'y', parameters: { binary_data: true } }]),
    'bytes.bin': binarySeed([{ name: 's', datatype: 'BYTES', shape: [3], bytes: bytesElements('ab', '', '\u0000\u00ff') }]),
    'mixed.bin': binarySeed([
      { name: 'a', datatype: 'INT64', shape: [2], bytes: Buffer.from(new BigInt64Array([1n, -1n]).buffer) },
      { name: 'j', datatype: 'FP32', shape: [1], data: [1] },
      { name: 'b', datatype: 'BOOL', shape: [3], bytes: Uint8Array.of(1, 0, 1) },
      { name: 'h', datatype: 'FP16', shape: [1], bytes: Uint8Array.of(0x00, 0x3c) },
    ]),
    'misaligned.bin': binarySeed([
      { name: 'u', datatype: 'UINT8', shape: [3], bytes: Uint8Array.of(1, 2, 3) },
      { name: 'd', datatype: 'FP64', shape: [1], bytes: Buffer.from(new Float64Array([0.5]).buffer) },
    ]),
    'short.bin': binarySeed([{ name: 's', datatype: 'BYTES', shape: [2], bytes: Uint8Array.of(5, 0, 0, 0, 1) }]),
    // the explicit form: byte 0x01, then a header length (here 1 byte short of the JSON)
    'header-length.bin': (() => {
      const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [2], parameters: { binary_data_size: 2 } }] }));
      return Buffer.concat([Uint8Array.of(1, (json.length - 1) & 0xff, (json.length - 1) >> 8), json, Uint8Array.of(7, 9)]);
    })(),
  };
}

function grpcSeeds(): Record<string, Uint8Array> {
  const wire = (init: Init) => toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, init));
  const int64 = (v: bigint) => ({ parameterChoice: { case: 'int64Param' as const, value: v } });
  return {
    'typed-fp32.pb': wire({ modelName: 'm', id: 'g1', inputs: [{ name: 'x', datatype: 'FP32', shape: [2n, 2n], contents: { fp32Contents: [1, 2, 3, 4] } }], outputs: [{ name: 'y', parameters: { classification: int64(2n) } }] }),
    'typed-all.pb': wire({
      modelName: 'm',
      inputs: [
        { name: 'b', datatype: 'BOOL', shape: [2n], contents: { boolContents: [true, false] } },
        { name: 'i', datatype: 'INT8', shape: [2n], contents: { intContents: [-128, 127] } },
        { name: 'l', datatype: 'INT64', shape: [1n], contents: { int64Contents: [-(2n ** 63n)] } },
        { name: 'u', datatype: 'UINT16', shape: [1n], contents: { uintContents: [65535] } },
        { name: 'q', datatype: 'UINT64', shape: [1n], contents: { uint64Contents: [2n ** 64n - 1n] } },
        { name: 'd', datatype: 'FP64', shape: [1n], contents: { fp64Contents: [0.5] } },
        { name: 's', datatype: 'BYTES', shape: [2n], contents: { bytesContents: [Uint8Array.of(1), new Uint8Array(0)] } },
      ],
      parameters: { priority: int64(1n), timeout: int64(5000n) },
    }),
    'raw.pb': wire({
      modelName: 'm',
      modelVersion: '2',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 2n] }, { name: 's', datatype: 'BYTES', shape: [1n] }, { name: 'h', datatype: 'FP16', shape: [1n] }],
      rawInputContents: [Buffer.from(new Float32Array([1, 2]).buffer), bytesElements('hi'), Uint8Array.of(0, 0x3c)],
    }),
    'shm.pb': wire({
      modelName: 'm',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [4n], parameters: { shared_memory_region: { parameterChoice: { case: 'stringParam', value: 'r' } }, shared_memory_byte_size: int64(16n) } }, { name: 'y', datatype: 'INT32', shape: [1n] }],
      rawInputContents: [Buffer.from(new Int32Array([7]).buffer)],
    }),
    'bad-range.pb': wire({ modelName: 'm', inputs: [{ name: 'i', datatype: 'UINT8', shape: [1n], contents: { uintContents: [300] } }] }),
  };
}

function controlJsonSeeds(): Record<string, Uint8Array> {
  return {
    'label.json': text({ id: 'r1', label: 1 }),
    'reward.json': text({ id: 'r2', reward: 0.5 }),
    'array.json': text([{ id: 'a', label: [1, 2] }, { id: 'b', reward: -1 }, { id: null }]),
    'nested.json': text({ id: { a: [[{ b: 'c' }]] } }),
  };
}

export const SEEDS: Readonly<Record<string, () => Record<string, Uint8Array>>> = {
  'rest-json': restJsonSeeds,
  'rest-binary': restBinarySeeds,
  'grpc-infer': grpcSeeds,
  'control-json': controlJsonSeeds,
};

/** Writes every seed under `dir`/<target>/. */
export function writeSeeds(dir: string): void {
  for (const [target, make] of Object.entries(SEEDS)) {
    mkdirSync(join(dir, target), { recursive: true });
    for (const [name, bytes] of Object.entries(make())) writeFileSync(join(dir, target, name), bytes);
  }
}
