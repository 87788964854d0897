import * as ort from 'onnxruntime-node';

/**
 * FP16 where the runtime has a global Float16Array (Node 24): onnxruntime-common turns a
 * float16 tensor's Uint16Array into a Float16Array view, and onnxruntime-node 1.30's binding
 * reads that view's byte length as 0, so every FP16 input failed with "not enough space:
 * expected N, got 0" (microsoft/onnxruntime#32323, open). A uint16 tensor is not converted:
 * it is made so, then labelled float16 (the binding reads `type`, `dims` and `data`). On
 * Node 20 this gives the same tensor the float16 constructor did.
 */
export function halfTensor(bits: Uint16Array, dims: readonly number[]): ort.Tensor {
  const t = new ort.Tensor('uint16', bits, dims);
  Object.defineProperty(t, 'type', { value: 'float16' });
  return t;
}

/** FP16 outputs arrive as Float16Array where it exists: the raw half bits the gateway carries (core/datatypes.ts), same memory. */
export function halfBits(data: ArrayBufferView): Uint16Array {
  return data instanceof Uint16Array ? data : new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
}
