/**
 * Tensor elements in InferTensorContents, the typed form of ModelInfer: each datatype has
 * one repeated field (INT8/INT16/INT32 share int_contents, UINT8/UINT16/UINT32 share
 * uint_contents); FP16 has none and travels only as raw contents. Reading checks the element
 * count and the range of the narrow integer types, so a value never wraps silently.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { GatewayError, type Datatype, type NumericArray, type TensorData } from '../../core/index.js';
import type { InferTensorContents, InferTensorContentsSchema } from '../../gen/grpc_service_pb.js';

type ContentsField = Exclude<keyof InferTensorContents, '$typeName' | '$unknown'>;
type ContentsInit = MessageInitShape<typeof InferTensorContentsSchema>;

/** The field of each datatype, by its proto name for messages; null = raw contents only. */
const FIELD: Readonly<Record<Datatype, readonly [ContentsField, string] | null>> = {
  BOOL: ['boolContents', 'bool_contents'],
  UINT8: ['uintContents', 'uint_contents'],
  UINT16: ['uintContents', 'uint_contents'],
  UINT32: ['uintContents', 'uint_contents'],
  UINT64: ['uint64Contents', 'uint64_contents'],
  INT8: ['intContents', 'int_contents'],
  INT16: ['intContents', 'int_contents'],
  INT32: ['intContents', 'int_contents'],
  INT64: ['int64Contents', 'int64_contents'],
  FP16: null,
  FP32: ['fp32Contents', 'fp32_contents'],
  FP64: ['fp64Contents', 'fp64_contents'],
  BYTES: ['bytesContents', 'bytes_contents'],
};

const FIELDS: readonly (readonly [ContentsField, string])[] = [
  ['boolContents', 'bool_contents'],
  ['intContents', 'int_contents'],
  ['int64Contents', 'int64_contents'],
  ['uintContents', 'uint_contents'],
  ['uint64Contents', 'uint64_contents'],
  ['fp32Contents', 'fp32_contents'],
  ['fp64Contents', 'fp64_contents'],
  ['bytesContents', 'bytes_contents'],
];

const RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  UINT8: [0, 255],
  UINT16: [0, 65535],
};

function invalid(message: string): GatewayError {
  return new GatewayError('SY_ERR_INVALID_INPUT', message);
}

/** Whether the datatype can be sent in typed contents (FP16 cannot). */
export function hasTypedContents(dt: Datatype): boolean {
  return FIELD[dt] !== null;
}

/** The first contents field that holds elements, for error messages. */
function filledField(c: InferTensorContents): string | null {
  for (const [key, name] of FIELDS) if ((c[key] as unknown[]).length > 0) return name;
  return null;
}

/**
 * Tensor storage for `count` elements of `dt` from `c` (undefined = no contents sent).
 * BYTES elements are views of the message buffer; numbers are copied into a typed array.
 */
export function readContents(label: string, dt: Datatype, count: number, c: InferTensorContents | undefined): TensorData {
  const field = FIELD[dt];
  if (field === null) {
    throw invalid(`${label}: ${dt} has no typed contents field; send its elements in raw_input_contents (little-endian)`);
  }
  const [key, name] = field;
  const values = c === undefined ? [] : (c[key] as unknown[]);
  if (values.length !== count) {
    const other = c === undefined || values.length > 0 ? null : filledField(c);
    if (other !== null) throw invalid(`${label}: datatype ${dt} takes its elements in contents.${name}, but the request filled contents.${other}`);
    throw invalid(`${label}: shape needs ${count} elements, got ${values.length} in contents.${name}`);
  }
  switch (dt) {
    case 'BOOL': {
      const src = values as boolean[];
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = src[i] ? 1 : 0;
      return out;
    }
    case 'INT8':
    case 'INT16':
    case 'UINT8':
    case 'UINT16':
      checkRange(label, dt, name, values as number[]);
      return dt === 'INT8' ? Int8Array.from(values as number[]) : dt === 'INT16' ? Int16Array.from(values as number[]) : dt === 'UINT8' ? Uint8Array.from(values as number[]) : Uint16Array.from(values as number[]);
    case 'INT32':
      return Int32Array.from(values as number[]);
    case 'UINT32':
      return Uint32Array.from(values as number[]);
    case 'INT64':
      return BigInt64Array.from(values as bigint[]);
    case 'UINT64':
      return BigUint64Array.from(values as bigint[]);
    case 'FP32':
      return Float32Array.from(values as number[]);
    case 'FP64':
      return Float64Array.from(values as number[]);
    case 'BYTES':
      return values as Uint8Array[];
    default:
      throw invalid(`${label}: ${dt} has no typed contents field; send it in raw_input_contents`);
  }
}

function checkRange(label: string, dt: Datatype, field: string, values: readonly number[]): void {
  const [lo, hi] = RANGE[dt]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo || v > hi) throw invalid(`${label}: contents.${field}[${i}] is ${v}, outside the range of ${dt} (${lo} to ${hi})`);
  }
}

/** `data` of `dt` as typed contents; the caller checked hasTypedContents(dt). */
export function writeContents(dt: Datatype, data: TensorData): ContentsInit {
  switch (dt) {
    case 'BOOL': {
      const src = data as Uint8Array;
      const out = new Array<boolean>(src.length);
      for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0;
      return { boolContents: out };
    }
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return { intContents: Array.from(data as Int32Array) };
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return { uintContents: Array.from(data as Uint32Array) };
    case 'INT64':
      return { int64Contents: Array.from(data as BigInt64Array) };
    case 'UINT64':
      return { uint64Contents: Array.from(data as BigUint64Array) };
    case 'FP32':
      return { fp32Contents: Array.from(data as Float32Array) };
    case 'FP64':
      return { fp64Contents: Array.from(data as Float64Array) };
    case 'BYTES':
      return { bytesContents: data as Uint8Array[] };
    default:
      throw new TypeError(`writeContents: ${dt} has no typed contents field`);
  }
}

/** The raw little-endian bytes of a fixed-size tensor (a view, no copy). */
export function rawBytes(data: NumericArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
