/**
 * The mutational cases of issue 14 that are too big to commit as corpus files, built when
 * they are replayed (each in ~10-100 ms, from a repeated pattern). Every fuzz run replays
 * them first, under the same invariant, in a child whose heap is capped at
 * FUZZ_HEAP_MB (run.ts): each is sized so that a decoder without its bound needs several
 * times that heap (the figure beside each, measured on the decoders before their fix, or
 * from ~106 B of heap per BYTES element), so a lost bound shows as a crash, not as a slow run.
 * `refused`: the decoder must refuse it (a 4xx GatewayError) with a message matching that
 * pattern (a refusal for some other reason would prove nothing), or null: it may decode it.
 */
import { joinBinaryInput } from './targets.js';

export interface Regression {
  readonly target: string;
  readonly name: string;
  readonly refused: RegExp | null;
  make(): Uint8Array;
}

const MI = 1 << 20;

/** `head`, then `pattern` `times` times, then `tail`, as bytes. */
function repeated(head: string, pattern: string | Uint8Array, times: number, tail: string): Uint8Array {
  const h = Buffer.from(head);
  const p = Buffer.from(typeof pattern === 'string' ? Buffer.from(pattern) : pattern);
  const t = Buffer.from(tail);
  const out = Buffer.allocUnsafe(h.length + p.length * times + t.length);
  h.copy(out, 0);
  let o = h.length;
  if (p.length > 0) {
    p.copy(out, o);
    // doubling copies: fast even for tens of millions of repeats
    let filled = p.length;
    const total = p.length * times;
    while (filled < total) {
      const n = Math.min(filled, total - filled);
      out.copy(out, o + filled, o, o + n);
      filled += n;
    }
    o += total;
  }
  t.copy(out, o);
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}

/** A protobuf LEN field. */
function field(tag: number, payload: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from([tag, ...varint(payload.length)]), payload]);
}

const str = (s: string) => Buffer.from(s);

/** A ModelInferRequest of model "m" (field 1) and `fields`. */
const request = (...fields: Uint8Array[]): Uint8Array => Buffer.concat([field(0x0a, str('m')), ...fields]);

/** InferInputTensor { name (1), datatype (2), shape (3, packed) , contents (5) }. */
function grpcInput(name: string, datatype: string, shape: number[], contents: Uint8Array | null = null): Uint8Array {
  const dims = Buffer.from(shape.flatMap(varint));
  return field(0x2a, Buffer.concat([field(0x0a, str(name)), field(0x12, str(datatype)), field(0x1a, dims), ...(contents === null ? [] : [field(0x2a, contents)])]));
}

function binaryBody(inputs: unknown[], binaryBytes: number): Uint8Array {
  return joinBinaryInput(Buffer.from(JSON.stringify({ inputs })), new Uint8Array(binaryBytes));
}

const nest = (open: string, close: string, depth: number, inner = ''): string => open.repeat(depth) + inner + close.repeat(depth);

export const REGRESSIONS: readonly Regression[] = [
  // item 1 and "nesting depth bounded everywhere"
  { target: 'control-json', name: 'feedback array item with a 10,000-deep id (~20 KB)', refused: /nests deeper than 32 levels/, make: () => str(`[{"id":${nest('[', ']', 10_000)},"label":1}]`) },
  { target: 'control-json', name: 'feedback object 1,000,000 levels deep (2 MB)', refused: /nests deeper than 32 levels/, make: () => str(nest('{"a":', '}', 1_000_000, '1')) },
  { target: 'rest-json', name: 'infer id 1,000,000 arrays deep', refused: /"id" must be a string/, make: () => str(`{"id":${nest('[', ']', 1_000_000)},"inputs":[]}`) },
  { target: 'rest-json', name: 'infer data 1,000,000 arrays deep', refused: /data is nested deeper than 64 levels/, make: () => str(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":${nest('[', ']', 1_000_000, '1')}}]}`) },
  { target: 'rest-json', name: 'infer parameters 1,000,000 objects deep', refused: /"parameters" nests deeper than 32 levels/, make: () => str(`{"parameters":{"p":${nest('{"a":', '}', 1_000_000, '1')}},"inputs":[]}`) },
  { target: 'rest-json', name: 'output parameters 1,000,000 arrays deep', refused: /output "y": "parameters" nests deeper than 32 levels/, make: () => str(`{"inputs":[],"outputs":[{"name":"y","parameters":{"p":${nest('[', ']', 1_000_000)}}}]}`) },
  // item 3 on the JSON path: 2^23 "" elements; unbounded this cost ~930 MB of heap (~111 B each)
  { target: 'rest-json', name: '2^23 empty BYTES strings in JSON data (25 MB)', refused: /has 8388608 BYTES elements; at most 1048576 are accepted in one request/, make: () => repeated(`{"inputs":[{"name":"s","datatype":"BYTES","shape":[${1 << 23}],"data":[`, '"",', (1 << 23) - 1, '""]}]}') },
  { target: 'rest-json', name: 'huge shape dims with no data', refused: /data has 0 elements but shape \[1000000000000000,1000000000000000\] needs/, make: () => str('{"inputs":[{"name":"x","datatype":"FP32","shape":[1000000000000000,1000000000000000],"data":[]}]}') },
  { target: 'rest-json', name: '200,000 request parameters (2.4 MB)', refused: null, make: () => repeated('{"parameters":{', '"p":1,', 200_000, '"q":1},"inputs":[]}') },
  { target: 'rest-json', name: '20,000 empty inputs (1 MB)', refused: null, make: () => repeated('{"inputs":[', '{"name":"a","datatype":"FP32","shape":[0],"data":[]},', 20_000, '{"name":"b","datatype":"FP32","shape":[0],"data":[]}]}') },
  // item 3: 16M empty BYTES elements in a 64 MB binary body (unbounded: ~1.8 GB)
  { target: 'rest-binary', name: '16M empty BYTES elements in one binary tensor (64 MB)', refused: /has 16777216 BYTES elements; at most 1048576/, make: () => binaryBody([{ name: 's', datatype: 'BYTES', shape: [16 * MI], parameters: { binary_data_size: 64 * MI } }], 64 * MI) },
  // the same spread over 16 tensors of 2^20 each, which a bound per tensor let through (~1.7 GB)
  {
    target: 'rest-binary',
    name: '16 binary BYTES tensors of 2^20 empty elements (64 MB)',
    refused: /brings the request's BYTES elements to 2097152; at most 1048576/,
    make: () => binaryBody(Array.from({ length: 16 }, (_, i) => ({ name: `s${i}`, datatype: 'BYTES', shape: [MI], parameters: { binary_data_size: 4 * MI } })), 64 * MI),
  },
  { target: 'rest-binary', name: 'huge shape dims with 4 bytes of data', refused: /binary_data_size 4 does not match shape \[1000000000,1000000000\]/, make: () => binaryBody([{ name: 'x', datatype: 'FP32', shape: [1e9, 1e9], parameters: { binary_data_size: 4 } }], 4) },
  // item 2: ~30M empty inputs in a 60 MB ModelInferRequest (unguarded fromBinary: out of heap)
  { target: 'grpc-infer', name: '30M empty inputs (60 MB)', refused: /has 1025 inputs; at most 1024/, make: () => request(repeated('', Uint8Array.of(0x2a, 0x00), 30_000_000, '')) },
  { target: 'grpc-infer', name: '30M empty outputs (60 MB)', refused: /has 1025 outputs; at most 1024/, make: () => request(repeated('', Uint8Array.of(0x32, 0x00), 30_000_000, '')) },
  { target: 'grpc-infer', name: '30M empty raw_input_contents (60 MB)', refused: /has 1025 raw_input_contents entries; at most 1024/, make: () => request(repeated('', Uint8Array.of(0x3a, 0x00), 30_000_000, '')) },
  // 1M request parameters: map entries { key "" } (tag 0x22, length 2, key tag 0x0a, length 0)
  { target: 'grpc-infer', name: '1M empty request parameters (4 MB)', refused: /has 257 parameters; at most 256/, make: () => request(repeated('', Uint8Array.of(0x22, 0x02, 0x0a, 0x00), MI, '')) },
  { target: 'grpc-infer', name: 'a shape of 1M dims (1 MB)', refused: /has 1048576 shape dims in inputs\[0\]; at most 64/, make: () => request(grpcInput('x', 'FP32', new Array<number>(MI).fill(1))) },
  { target: 'grpc-infer', name: 'huge shape dims', refused: /shape \[1099511627776,1099511627776\] has 1\.2089258196146292e\+24 BYTES elements|shape needs 1\.2089258196146292e\+24 elements/, make: () => request(grpcInput('x', 'BYTES', [2 ** 40, 2 ** 40])) },
  // 16 raw BYTES entries of 2^20 empty elements: a bound per tensor let ~1.7 GB through
  {
    target: 'grpc-infer',
    name: '16 raw BYTES entries of 2^20 empty elements (64 MB)',
    refused: /brings the request's BYTES elements to 2097152; at most 1048576/,
    make: () => request(...Array.from({ length: 16 }, (_, i) => grpcInput(`s${i}`, 'BYTES', [MI])), ...Array.from({ length: 16 }, () => field(0x3a, new Uint8Array(4 * MI)))),
  },
  // 4 inputs of 2^20 empty bytes_contents (tag 0x42, length 0): ~450 MB when counted per input
  { target: 'grpc-infer', name: '4 typed inputs of 2^20 empty bytes_contents (8 MB)', refused: /has 1048577 bytes_contents elements \(counted to inputs\[1\]\)/, make: () => request(...Array.from({ length: 4 }, (_, i) => grpcInput(`s${i}`, 'BYTES', [MI], repeated('', Uint8Array.of(0x42, 0x00), MI, '')))) },
  // 4M packed int64 contents, each a 10-byte varint: ~40 MB
  { target: 'grpc-infer', name: '2^22 + 1 typed int64 elements (40 MB)', refused: /has 4194305 elements in typed contents; at most 4194304/, make: () => request(grpcInput('x', 'INT64', [4 * MI + 1], field(0x1a, repeated('', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 4 * MI + 1, '')))) },
];

export function regressionsOf(target: string): Regression[] {
  return REGRESSIONS.filter((r) => r.target === target);
}
