/**
 * The few pieces of the protobuf wire format the hand-written response encoder needs
 * (encode-response.ts): sizes first, then one write into a buffer of exactly that size.
 * Reflection-based encoding (@bufbuild/protobuf toBinary) spent ~12% of the main thread per
 * ModelInfer answer under load, most of it building and walking message objects.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;

/** Bytes of `v` (a non-negative integer below 2^53) as a varint. */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  for (let x = Math.floor(v / 0x800000000); x > 0; x = Math.floor(x / 0x80)) n++;
  return n;
}

/** Bytes of an int64 or uint64 field's value: negatives take ten (two's complement, 64 bits). */
export function int64Size(v: bigint): number {
  let x = BigInt.asUintN(64, v);
  let n = 1;
  while (x >= 0x80n) {
    x >>= 7n;
    n++;
  }
  return n;
}

/** A field that holds `len` bytes: tag, length, the bytes. */
export function lenFieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** A writer over a buffer sized in advance; writing past it is a bug in a size function. */
export class ProtoWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(v: number): void {
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[this.pos++] = v;
  }

  int64(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    const buf = this.buf;
    while (x >= 0x80n) {
      buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    buf[this.pos++] = Number(x);
  }

  /** A tag: field numbers here are below 16, so one byte. */
  tag(field: number, wire: number): void {
    this.buf[this.pos++] = (field << 3) | wire;
  }

  /** A length-delimited field's tag and length; the caller writes the `len` bytes next. */
  lenHeader(field: number, len: number): void {
    this.tag(field, WIRE_LEN);
    this.varint(len);
  }

  /** A string field of `byteLength` UTF-8 bytes (measured by the size pass). */
  string(field: number, s: string, byteLength: number): void {
    this.lenHeader(field, byteLength);
    this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
  }

  bytes(field: number, b: Uint8Array): void {
    this.lenHeader(field, b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  double(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }
}
