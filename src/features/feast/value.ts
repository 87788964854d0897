import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { FeatureDtype } from '../../config/index.js';

/**
 * The serialized protobufs of Feast's Redis online store, decoded with @bufbuild/protobuf's
 * wire reader (no generated code: two small messages).
 *
 *   feast.types.Value { oneof val { bytes bytes_val = 1; string string_val = 2;
 *     int32 int32_val = 3; int64 int64_val = 4; double double_val = 5; float float_val = 6;
 *     bool bool_val = 7; int64 unix_timestamp_val = 8; <lists> = 11..18; Null null_val = 19; } }
 *   google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }
 */

/** A Value of a kind that is not a scalar we read (bytes, lists): counts as unparsable. */
export const UNSUPPORTED = Symbol('unsupported Feast value kind');

/** A decoded scalar; null when the Value is unset or null_val. */
export type FeastScalar = string | number | bigint | boolean | null | typeof UNSUPPORTED;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const decodeUtf8 = (bytes: Uint8Array): string => utf8.decode(bytes);

/** The wire type each scalar field must have; a field sent with another is malformed. */
const SCALAR_WIRE: Readonly<Record<number, WireType>> = {
  2: WireType.LengthDelimited,
  3: WireType.Varint,
  4: WireType.Varint,
  5: WireType.Bit64,
  6: WireType.Bit32,
  7: WireType.Varint,
  8: WireType.Varint,
};

/** Decodes a serialized feast.types.Value; throws on malformed bytes. */
export function decodeFeastValue(bytes: Uint8Array): FeastScalar {
  const reader = new BinaryReader(bytes, decodeUtf8);
  let out: FeastScalar = null;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    const expected = SCALAR_WIRE[field];
    if (expected !== undefined && expected !== wire) {
      reader.skip(wire, field);
      out = UNSUPPORTED;
      continue;
    }
    switch (field) {
      case 2:
        out = reader.string();
        break;
      case 3:
        out = reader.int32();
        break;
      case 4:
      case 8:
        out = BigInt(reader.int64());
        break;
      case 5:
        out = reader.double();
        break;
      case 6:
        out = reader.float();
        break;
      case 7:
        out = reader.bool();
        break;
      case 19:
        reader.skip(wire, field);
        out = null;
        break;
      default:
        reader.skip(wire, field);
        out = UNSUPPORTED;
    }
  }
  return out;
}

/** Milliseconds since the epoch of a serialized google.protobuf.Timestamp; throws on malformed bytes. */
export function decodeTimestampMs(bytes: Uint8Array): number {
  const reader = new BinaryReader(bytes);
  let seconds = 0;
  let nanos = 0;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 1) seconds = Number(reader.int64());
    else if (field === 2) nanos = reader.int32();
    else reader.skip(wire, field);
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

/** A serialized feast.types.Value holding `value` in the kind Feast uses for the dtype. */
export function encodeFeastValue(dtype: FeatureDtype, value: number | bigint): Uint8Array {
  const w = new BinaryWriter();
  switch (dtype) {
    case 'FP64':
      w.tag(5, WireType.Bit64).double(Number(value));
      break;
    case 'FP32':
    case 'FP16':
      w.tag(6, WireType.Bit32).float(Number(value));
      break;
    case 'BOOL':
      w.tag(7, WireType.Varint).bool(Number(value) !== 0);
      break;
    case 'INT64':
    case 'UINT64':
    case 'UINT32':
      w.tag(4, WireType.Varint).int64(BigInt(value));
      break;
    default:
      w.tag(3, WireType.Varint).int32(Number(value));
  }
  return w.finish();
}

/** A serialized google.protobuf.Timestamp of `ms` since the epoch. */
export function encodeTimestamp(ms: number): Uint8Array {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  const w = new BinaryWriter();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  return w.finish();
}
