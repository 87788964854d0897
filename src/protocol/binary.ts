/**
 * Triton's binary tensor data extension: tensors as raw little-endian bytes after the JSON
 * header, row-major, no padding. BOOL is one byte per element (0/1); BYTES is each element
 * as a 4-byte little-endian unsigned length followed by its bytes.
 *
 * Assumes a little-endian host (x86-64 and arm64, every platform the gateway ships on):
 * fixed-size tensors are viewed and copied as the host's typed arrays.
 */
import { type Datatype, MAX_BYTES_ELEMENTS, type Tensor, type TensorData, datatypeSize, elementCount, shapeToString, viewBytes } from '../core/index.js';
import { invalid } from './json-text.js';

/**
 * Tensor storage from `bytes` (exactly the tensor's binary_data_size bytes of the body).
 * Fixed-size types are a view of the body when aligned (no copy) and a copy otherwise; BYTES
 * elements are views of the body. The returned data therefore shares the body's buffer.
 */
export function readBinaryTensor(label: string, dt: Datatype, shape: readonly number[], bytes: Uint8Array): TensorData {
  const count = elementCount(shape);
  const size = datatypeSize(dt);
  if (size > 0) {
    const need = count * size;
    if (bytes.byteLength !== need) {
      throw invalid(
        `${label}: binary_data_size ${bytes.byteLength} does not match shape ${shapeToString(shape)} of ${dt}: expected ${need} bytes (${count} × ${size})`,
      );
    }
    return viewBytes(dt, bytes);
  }
  return readBytesElements(label, shape, count, bytes);
}

/**
 * The BYTES elements of one request, all inputs together, counted against MAX_BYTES_ELEMENTS
 * from their shapes before any element is made: each element becomes an object of its own
 * (~110 B of heap), and a bound per tensor alone let 16 inputs of 2^20 empty elements (a 64 MB
 * binary body, REST or gRPC raw) cost 1.7 GB, and JSON data of 21M "" elements had no bound at
 * all. One per request decoder (REST JSON and binary, gRPC raw); gRPC's typed bytes_contents
 * are counted on the wire (transport/grpc/wire-limits.ts).
 */
export class BytesBudget {
  private used = 0;

  count(label: string, shape: readonly number[]): void {
    const count = elementCount(shape);
    this.used += count;
    if (this.used > MAX_BYTES_ELEMENTS) {
      throw invalid(
        this.used === count
          ? `${label}: shape ${shapeToString(shape)} has ${count} BYTES elements; at most ${MAX_BYTES_ELEMENTS} are accepted in one request (split the request)`
          : `${label}: shape ${shapeToString(shape)} brings the request's BYTES elements to ${this.used}; at most ${MAX_BYTES_ELEMENTS} are accepted in one request, all inputs together (split the request)`,
      );
    }
  }
}

function readBytesElements(label: string, shape: readonly number[], count: number, bytes: Uint8Array): Uint8Array[] {
  if (count > MAX_BYTES_ELEMENTS) {
    throw invalid(`${label}: shape ${shapeToString(shape)} has ${count} BYTES elements; at most ${MAX_BYTES_ELEMENTS} are accepted in one tensor (split the request)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  // not preallocated: `count` comes from the client's shape, the loop is bounded by the bytes
  const out: Uint8Array[] = [];
  let pos = 0;
  while (out.length < count) {
    if (pos === end) {
      throw invalid(
        `${label}: binary_data_size ${end} holds ${out.length} BYTES elements but shape ${shapeToString(shape)} needs ${count}`,
      );
    }
    if (pos + 4 > end) {
      throw invalid(`${label}: BYTES element ${out.length}: its 4-byte length runs past binary_data_size ${end}`);
    }
    const len = dv.getUint32(pos, true);
    pos += 4;
    if (len > end - pos) {
      throw invalid(`${label}: BYTES element ${out.length} has length ${len} but only ${end - pos} bytes of binary_data_size ${end} are left`);
    }
    out.push(bytes.subarray(pos, pos + len));
    pos += len;
  }
  if (pos !== end) {
    throw invalid(
      `${label}: binary_data_size ${end} has ${end - pos} bytes after the ${count} BYTES elements shape ${shapeToString(shape)} needs`,
    );
  }
  return out;
}

/** Bytes `t` takes in the binary section. */
export function binaryByteLength(t: Tensor): number {
  const size = datatypeSize(t.datatype);
  if (size > 0) return (t.data as ArrayLike<unknown>).length * size;
  const els = t.data as Uint8Array[];
  let n = 4 * els.length;
  for (let i = 0; i < els.length; i++) n += els[i].byteLength;
  return n;
}

/** Writes `t` into `out` at `offset`; returns the offset after it. */
export function writeBinaryTensor(t: Tensor, out: Buffer, offset: number): number {
  if (t.datatype === 'BYTES') {
    const els = t.data as Uint8Array[];
    for (let i = 0; i < els.length; i++) {
      const e = els[i];
      out.writeUInt32LE(e.byteLength, offset);
      out.set(e, offset + 4);
      offset += 4 + e.byteLength;
    }
    return offset;
  }
  const d = t.data as Exclude<TensorData, Uint8Array[]>;
  out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), offset);
  return offset + d.byteLength;
}
