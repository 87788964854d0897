/**
 * Bounds on what one ModelInferRequest may make the main thread allocate, checked on the
 * wire bytes before @bufbuild/protobuf decodes them. Decoding builds an object per repeated
 * entry: a 60 MB message of 30 million empty `inputs` ran the heap out of memory, packed
 * int64 contents become a BigInt per byte-long varint, and 16 million empty BYTES elements
 * cost ~2 GB. The scan walks the tags of the message and of each input (skipping payloads),
 * so it costs a fraction of the decode; a request over a bound gets INVALID_ARGUMENT saying
 * which and by how much, before anything is allocated for it.
 */
import { GatewayError, MAX_BYTES_ELEMENTS } from '../../core/index.js';

/** inputs, outputs and raw_input_contents entries of one request (each) */
export const MAX_TENSORS = 1024;
/** parameters of the request, and of each input or output */
export const MAX_PARAMETERS = 256;
/** dims of an input's shape */
export const MAX_RANK = 64;
/** elements in the typed `contents` fields of all inputs together (raw_input_contents has no such cost) */
export const MAX_TYPED_ELEMENTS = 1 << 22;

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

function refuse(message: string): GatewayError {
  return new GatewayError('SY_ERR_INVALID_INPUT', `ModelInferRequest ${message}`);
}

class Reader {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let shift = 0;
    let v = 0;
    for (;;) {
      if (this.pos >= this.end) throw refuse('is malformed: a varint runs past the end of its message');
      const c = this.b[this.pos++];
      if (shift < 49) v += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) return v;
      shift += 7;
      if (shift > 63) throw refuse('is malformed: a varint is longer than 10 bytes');
    }
  }

  /** Skips the payload of a field of `wireType`; returns [start, end) for LEN fields. */
  skip(wireType: number): [number, number] | null {
    switch (wireType) {
      case VARINT:
        this.varint();
        return null;
      case I64:
        this.pos += 8;
        break;
      case I32:
        this.pos += 4;
        break;
      case LEN: {
        const n = this.varint();
        const start = this.pos;
        this.pos += n;
        if (this.pos > this.end) throw refuse('is malformed: a field runs past the end of its message');
        return [start, this.pos];
      }
      default:
        throw refuse(`is malformed: wire type ${wireType} is not used by this message`);
    }
    if (this.pos > this.end) throw refuse('is malformed: a field runs past the end of its message');
    return null;
  }
}

/** Varints in a packed field: the bytes without the continuation bit. */
function countVarints(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (b[i] < 0x80) n++;
  return n;
}

function over(what: string, n: number, max: number): GatewayError {
  return refuse(`has ${n} ${what}; at most ${max} are accepted`);
}

/**
 * Throws INVALID_ARGUMENT when the encoded request exceeds a bound, or when its framing is
 * malformed (fromBinary would reject it too, but only after allocating).
 */
export function checkInferRequestWire(b: Uint8Array): void {
  const r = new Reader(b, 0, b.length);
  let inputs = 0;
  let outputs = 0;
  let raw = 0;
  let params = 0;
  const typed = { n: 0, bytes: 0 };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const span = r.skip(tag & 7);
    if (field === 4 && ++params > MAX_PARAMETERS) throw over('parameters', params, MAX_PARAMETERS);
    else if (field === 5) {
      if (++inputs > MAX_TENSORS) throw over('inputs', inputs, MAX_TENSORS);
      if (span !== null) checkInput(b, span[0], span[1], inputs - 1, typed);
    } else if (field === 6) {
      if (++outputs > MAX_TENSORS) throw over('outputs', outputs, MAX_TENSORS);
      if (span !== null) checkParametersOf(b, span[0], span[1], 2, `outputs[${outputs - 1}]`);
    } else if (field === 7 && ++raw > MAX_TENSORS) throw over('raw_input_contents entries', raw, MAX_TENSORS);
  }
}

function checkParametersOf(b: Uint8Array, start: number, end: number, paramsField: number, label: string): void {
  const r = new Reader(b, start, end);
  let params = 0;
  while (r.pos < r.end) {
    const tag = r.varint();
    r.skip(tag & 7);
    if (Math.floor(tag / 8) === paramsField && ++params > MAX_PARAMETERS) throw over(`parameters in ${label}`, params, MAX_PARAMETERS);
  }
}

function checkInput(b: Uint8Array, start: number, end: number, index: number, typed: { n: number; bytes: number }): void {
  const r = new Reader(b, start, end);
  let dims = 0;
  let params = 0;
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    const span = r.skip(wire);
    if (field === 3) {
      dims += span === null ? 1 : countVarints(b, span[0], span[1]);
      if (dims > MAX_RANK) throw over(`shape dims in inputs[${index}]`, dims, MAX_RANK);
    } else if (field === 4 && ++params > MAX_PARAMETERS) throw over(`parameters in inputs[${index}]`, params, MAX_PARAMETERS);
    else if (field === 5 && span !== null) countContents(b, span[0], span[1], index, typed);
  }
}

/** InferTensorContents: 1-5 varints, 6 fp32 (4 bytes), 7 fp64 (8 bytes), 8 bytes_contents. */
function countContents(b: Uint8Array, start: number, end: number, index: number, typed: { n: number; bytes: number }): void {
  const r = new Reader(b, start, end);
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    const span = r.skip(wire);
    let n = 1;
    if (span !== null && field >= 1 && field <= 5) n = countVarints(b, span[0], span[1]);
    else if (span !== null && field === 6) n = (span[1] - span[0]) / 4;
    else if (span !== null && field === 7) n = (span[1] - span[0]) / 8;
    // counted over the whole request: each becomes a view of its own (~110 B of heap)
    else if (field === 8 && ++typed.bytes > MAX_BYTES_ELEMENTS) throw over(`bytes_contents elements (counted to inputs[${index}])`, typed.bytes, MAX_BYTES_ELEMENTS);
    typed.n += n;
    if (typed.n > MAX_TYPED_ELEMENTS) throw over('elements in typed contents', typed.n, MAX_TYPED_ELEMENTS);
  }
}
