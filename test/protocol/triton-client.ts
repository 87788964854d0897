/**
 * What Triton's Python HTTP client (tritonclient.http) puts on and takes off the wire,
 * rebuilt for tests: `json.dumps` of the request (", " and ": " separators), then each
 * binary input's raw bytes in input order, with Inference-Header-Content-Length = the JSON's
 * byte length; and the client's reading of a response (binary outputs sliced in the order
 * the JSON lists them, BYTES deserialized from 4-byte little-endian lengths).
 */

/** Python's json.dumps with default separators (non-ASCII escaped, as ensure_ascii does). */
export function pyJsonDumps(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[' + v.map(pyJsonDumps).join(', ') + ']';
  if (typeof v === 'object') {
    return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyJsonDumps(k)}: ${pyJsonDumps(x)}`).join(', ') + '}';
  }
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

/** tritonclient.utils.serialize_byte_tensor: each element as <u32 LE length><bytes>. */
export function serializeByteTensor(els: readonly (Uint8Array | string)[]): Uint8Array {
  const parts = els.map((e) => (typeof e === 'string' ? new TextEncoder().encode(e) : e));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    dv.setUint32(off, p.byteLength, true);
    out.set(p, off + 4);
    off += 4 + p.byteLength;
  }
  return out;
}

/** Raw little-endian bytes of a typed array (numpy's tobytes on a little-endian host). */
export function rawBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

export interface ClientInput {
  name: string;
  shape: number[];
  datatype: string;
  /** JSON data, or raw bytes sent with the binary extension */
  data: unknown[] | Uint8Array;
}

export interface ClientOutput {
  name: string;
  binary_data: boolean;
}

/**
 * tritonclient.http._get_inference_request: returns the body and the header length (null
 * when no input is binary, as the client then sends plain JSON).
 */
export function buildTritonRequest(
  inputs: ClientInput[],
  outputs: ClientOutput[] | null,
  opts: { id?: string; priority?: number; timeout?: number } = {},
): { body: Uint8Array; headerLength: number | null } {
  const req: Record<string, unknown> = {};
  const params: Record<string, unknown> = {};
  if (opts.id !== undefined) req.id = opts.id;
  if (opts.priority !== undefined) params.priority = opts.priority;
  if (opts.timeout !== undefined) params.timeout = opts.timeout;
  req.inputs = inputs.map((i) =>
    i.data instanceof Uint8Array
      ? { name: i.name, shape: i.shape, datatype: i.datatype, parameters: { binary_data_size: i.data.byteLength } }
      : { name: i.name, shape: i.shape, datatype: i.datatype, data: i.data },
  );
  if (outputs !== null) req.outputs = outputs.map((o) => ({ name: o.name, parameters: { binary_data: o.binary_data } }));
  else params.binary_data_output = true;
  if (Object.keys(params).length > 0) req.parameters = params;
  const json = new TextEncoder().encode(pyJsonDumps(req));
  const bins = inputs.filter((i) => i.data instanceof Uint8Array).map((i) => i.data as Uint8Array);
  if (bins.length === 0) return { body: json, headerLength: null };
  const total = json.byteLength + bins.reduce((n, b) => n + b.byteLength, 0);
  const body = new Uint8Array(total);
  body.set(json, 0);
  let off = json.byteLength;
  for (const b of bins) {
    body.set(b, off);
    off += b.byteLength;
  }
  return { body, headerLength: json.byteLength };
}

export interface ClientResult {
  json: {
    id: string;
    model_name: string;
    model_version: string;
    parameters?: Record<string, unknown>;
    outputs: { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: Record<string, unknown> }[];
  };
  /** binary outputs' raw bytes by name */
  binary: Map<string, Uint8Array>;
}

/** tritonclient.http.InferResult: JSON header, then binary outputs in JSON order. */
export function readTritonResponse(body: Uint8Array, headerLength: number | null): ClientResult {
  const hl = headerLength ?? body.byteLength;
  const json = JSON.parse(new TextDecoder().decode(body.subarray(0, hl))) as ClientResult['json'];
  const binary = new Map<string, Uint8Array>();
  let off = hl;
  for (const o of json.outputs) {
    const size = o.parameters?.binary_data_size;
    if (typeof size === 'number') {
      binary.set(o.name, new Uint8Array(body.subarray(off, off + size)));
      off += size;
    }
  }
  if (off !== body.byteLength) throw new Error(`response has ${body.byteLength - off} unread bytes`);
  return { json, binary };
}

/** tritonclient.utils.deserialize_bytes_tensor */
export function deserializeByteTensor(b: Uint8Array): Uint8Array[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < b.byteLength) {
    const n = dv.getUint32(off, true);
    out.push(b.slice(off + 4, off + 4 + n));
    off += 4 + n;
  }
  return out;
}
