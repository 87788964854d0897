/**
 * The fuzz targets: each request decoder as the server runs it on bytes from the network.
 *
 * - `rest-json`: POST /v2/models/<m>/infer with a JSON body (decodeInferRequest, no header).
 * - `rest-binary`: the same with Triton's binary tensor extension. The fuzz input is the JSON
 *   part, a NUL byte (which valid JSON never holds), then the binary part; the
 *   Inference-Header-Content-Length is the JSON part's length, so a mutation of the JSON does
 *   not also break the framing. An input starting with byte 0x01 instead gives the header
 *   length itself in its next 2 bytes (little-endian), so wrong lengths are fuzzed too.
 * - `grpc-infer`: a ModelInferRequest message through the server's own guarded deserializer
 *   (the wire-limit check, then @bufbuild/protobuf's fromBinary) and decodeModelInferRequest.
 * - `control-json`: a /v2/feedback body (parseControlJson), then what the answer does with it
 *   (JSON.stringify, describeValue): the deeply nested `id` that once took the process down.
 *
 * The invariant (checkOutcome): a target returns, or throws a GatewayError whose HTTP status
 * is 4xx. Any other exception, a 5xx, a hang or running out of the heap is a crash.
 */
import { GatewayError, InferRequest } from '../../src/core/index.js';
import { GRPCInferenceService, type ModelInferRequest } from '../../src/gen/grpc_service_pb.js';
import { decodeInferRequest, describeValue, parseControlJson } from '../../src/protocol/index.js';
import { decodeModelInferRequest } from '../../src/transport/grpc/decode-request.js';
import { serviceMethods } from '../../src/transport/grpc/service-definition.js';
import { checkInferRequestWire } from '../../src/transport/grpc/wire-limits.js';

export interface FuzzTarget {
  readonly name: string;
  /** Decodes one input; returns what was decoded, or throws. */
  run(input: Uint8Array): unknown;
  /** Tokens the mutator splices in (field names, datatypes, wire tags). */
  readonly dictionary: readonly Uint8Array[];
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

const JSON_TOKENS = [
  '"inputs"', '"outputs"', '"name"', '"datatype"', '"shape"', '"data"', '"parameters"', '"id"',
  '"binary_data_size"', '"binary_data"', '"binary_data_output"', '"content_type"', '"base64"',
  '"shared_memory_region"', '"shared_memory_byte_size"', '"shared_memory_offset"', '"classification"',
  '"priority"', '"timeout"', '"model_name"', '"BOOL"', '"UINT8"', '"UINT16"', '"UINT32"', '"UINT64"',
  '"INT8"', '"INT16"', '"INT32"', '"INT64"', '"FP16"', '"FP32"', '"FP64"', '"BYTES"', 'NaN', '-Infinity',
  'Inf', '"NaN"', 'null', 'true', 'false', '[]', '{}', '[[[[', ']]]]', '""', '"\\u0000"', '"\\ud800"',
  '-1', '0', '1e308', '-0', '0.5', '4294967296', '9007199254740993', '18446744073709551616', '1e-400',
  ':', ',', '{"a":', '"x":[1,2,3]',
].map(text);

function binaryTokens(): Uint8Array[] {
  const le32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n >>> 0, true);
    return b;
  };
  return [...JSON_TOKENS, le32(0), le32(1), le32(0xffffffff), le32(0x7fffffff), le32(65536), new Uint8Array(4)];
}

/** Varint-encoded tags and lengths of ModelInferRequest and its nested messages. */
function protobufTokens(): Uint8Array[] {
  const tags: number[][] = [];
  // fields 1-8 of every message involved, with each wire type
  for (let field = 1; field <= 8; field++) for (const wire of [0, 1, 2, 5]) tags.push([(field << 3) | wire]);
  return [
    ...tags.map((t) => Uint8Array.from(t)),
    Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x01), // 2^28 as a length
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // -1 as int64
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f),
    Uint8Array.of(0x00),
    ...['FP32', 'BYTES', 'INT64', 'FP16', 'BOOL', 'UINT8', 'priority', 'timeout', 'shared_memory_region', 'classification', 'binary_data'].map((s) => Uint8Array.from([s.length, ...text(s)])),
  ];
}

export const restJson: FuzzTarget = {
  name: 'rest-json',
  run: (input) => decodeInferRequest(input, null, 'm', null, 0),
  dictionary: JSON_TOKENS,
};

/** The header length and the body of a rest-binary fuzz input (see the top of this file). */
export function splitBinaryInput(input: Uint8Array): { headerLength: number; body: Uint8Array } {
  if (input.byteLength >= 3 && input[0] === 0x01) return { headerLength: input[1] | (input[2] << 8), body: input.subarray(3) };
  const nul = input.indexOf(0);
  if (nul < 0) return { headerLength: input.byteLength, body: input };
  const body = new Uint8Array(input.byteLength - 1);
  body.set(input.subarray(0, nul));
  body.set(input.subarray(nul + 1), nul);
  return { headerLength: nul, body };
}

/** A rest-binary fuzz input of `json` and `binary` (seeds and regressions build them). */
export function joinBinaryInput(json: Uint8Array, binary: Uint8Array): Uint8Array {
  const out = new Uint8Array(json.byteLength + 1 + binary.byteLength);
  out.set(json);
  out.set(binary, json.byteLength + 1);
  return out;
}

export const restBinary: FuzzTarget = {
  name: 'rest-binary',
  run: (input) => {
    const { headerLength, body } = splitBinaryInput(input);
    return decodeInferRequest(body, headerLength, 'm', null, 0);
  },
  dictionary: binaryTokens(),
};

/** The server's ModelInfer deserializer (the wire-limit guard, then fromBinary), as server.ts builds it. */
const modelInferMethod = serviceMethods(GRPCInferenceService, { modelInfer: () => undefined }, { modelInfer: checkInferRequestWire })[0];

export const grpcInfer: FuzzTarget = {
  name: 'grpc-infer',
  run: (input) => {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    return decodeModelInferRequest(modelInferMethod.decode(buf) as ModelInferRequest, 0);
  },
  dictionary: protobufTokens(),
};

export const controlJson: FuzzTarget = {
  name: 'control-json',
  run: (input) => {
    const v = parseControlJson(input, 'feedback');
    // what the feedback answer and its errors do with the value
    const id = v !== null && typeof v === 'object' && 'id' in v ? (v as { id: unknown }).id : v;
    return [describeValue(id), JSON.stringify(v)];
  },
  dictionary: JSON_TOKENS,
};

export const TARGETS: readonly FuzzTarget[] = [restJson, restBinary, grpcInfer, controlJson];

export function targetNamed(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no fuzz target "${name}"; the targets are ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}

/**
 * null when `error` (thrown by a target, or undefined when it returned) keeps the invariant,
 * else why it does not.
 */
export function violation(error: unknown): string | null {
  if (error === undefined) return null;
  if (error instanceof GatewayError) {
    if (error.httpStatus >= 400 && error.httpStatus < 500) return null;
    return `GatewayError ${error.code} with HTTP status ${error.httpStatus}, expected a 4xx: ${error.message}`;
  }
  const e = error instanceof Error ? error : null;
  return `${e === null ? typeof error : e.constructor.name} escaped the decoder (expected a GatewayError with a 4xx status): ${e === null ? String(error) : (e.stack ?? e.message)}`;
}

/**
 * A rough upper estimate of the heap a decoded request holds beyond its input's bytes: what
 * the fuzzer checks per run (the property test measures the heap itself). A BYTES element is
 * a Uint8Array view, ~106 B of heap each (measured, see allocation.property.test.ts); numeric
 * data views the input unless misaligned (then a copy); parameters are counted by their JSON.
 */
export function decodedSize(value: unknown, input: Uint8Array): number {
  if (!(value instanceof InferRequest)) return 0;
  let n = 256;
  for (const t of value.inputs) {
    n += 128 + 8 * t.shape.length;
    if (Array.isArray(t.data)) n += 112 * t.data.length;
    else if (t.data.buffer !== input.buffer) n += t.data.byteLength;
  }
  if (value.outputs !== null) n += 128 * value.outputs.length;
  return n;
}
