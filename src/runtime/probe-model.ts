/**
 * A minimal ONNX model (y = Identity(x), FP32 [1]) encoded by hand, so that `doctor` can ask
 * ONNX Runtime which execution providers create a session here without any file on disk.
 */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function field(no: number, payload: number[] | string): number[] {
  const bytes = typeof payload === 'string' ? [...Buffer.from(payload, 'utf8')] : payload;
  return [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
}

function intField(no: number, value: number): number[] {
  return [...varint(no << 3), ...varint(value)];
}

function valueInfo(name: string): number[] {
  const dim = field(1, intField(1, 1)); // TensorShapeProto.dim { dim_value: 1 }
  const tensorType = [...intField(1, 1), ...field(2, dim)]; // elem_type FLOAT, shape
  return [...field(1, name), ...field(2, field(1, tensorType))];
}

export function probeModel(): Uint8Array {
  const node = [...field(1, 'x'), ...field(2, 'y'), ...field(4, 'Identity')];
  const graph = [...field(1, node), ...field(2, 'probe'), ...field(11, valueInfo('x')), ...field(12, valueInfo('y'))];
  const opset = [...field(1, ''), ...intField(2, 13)];
  return Uint8Array.from([...intField(1, 7), ...field(7, graph), ...field(8, opset)]);
}
