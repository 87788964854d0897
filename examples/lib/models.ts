/**
 * The example models, each a function from its parameters to the bytes of an ONNX model.
 */
import { ELEM, attr, encodeModel, floatTensor, int64Tensor, node, valueInfo, type ElemType } from './onnx-builder.js';
import { mulberry32, uniform } from './prng.js';

export const TABULAR_FEATURES = 16;
export const TABULAR_HIDDEN = 32;
export const TABULAR_CLASSES = 3;

/**
 * MLP classifier: x FP32 [batch,16] → MatMul+Add+Relu (32) → MatMul+Add (3 logits)
 * → `probabilities` = Softmax(logits), `label` = ArgMax(logits, axis 1).
 * Weights are Glorot-uniform from mulberry32(seed).
 */
export function tabularModel(seed: number): Uint8Array {
  const rand = mulberry32(seed);
  const [f, h, c] = [TABULAR_FEATURES, TABULAR_HIDDEN, TABULAR_CLASSES];
  const w1 = uniform(rand, f * h, Math.sqrt(6 / (f + h)));
  const b1 = uniform(rand, h, 0.1);
  const w2 = uniform(rand, h * c, Math.sqrt(6 / (h + c)));
  const b2 = uniform(rand, c, 0.1);
  return encodeModel({
    name: 'tabular',
    docString: `MLP classifier ${f}→${h}→${c}, weights from seed ${seed}`,
    inputs: [valueInfo('x', ELEM.FLOAT, ['batch', f])],
    outputs: [
      valueInfo('probabilities', ELEM.FLOAT, ['batch', c]),
      valueInfo('label', ELEM.INT64, ['batch']),
    ],
    initializers: [
      floatTensor('w1', [f, h], w1),
      floatTensor('b1', [h], b1),
      floatTensor('w2', [h, c], w2),
      floatTensor('b2', [c], b2),
    ],
    nodes: [
      node('MatMul', ['x', 'w1'], ['h1_mm']),
      node('Add', ['h1_mm', 'b1'], ['h1_pre']),
      node('Relu', ['h1_pre'], ['h1']),
      node('MatMul', ['h1', 'w2'], ['logits_mm']),
      node('Add', ['logits_mm', 'b2'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], [attr('axis', -1)]),
      node('ArgMax', ['logits'], ['label'], [attr('axis', 1), attr('keepdims', 0)]),
    ],
  });
}

export const HEAVY_WIDTH = 512;
/**
 * 48 layers: a row costs ~0.24 ms of CPU time at the best batch size (raw ORT 8,331 rows/s
 * on 2 threads at batch 64 in bench/results/2026-12-04.md), several times what the gateway
 * spends on a request (~34 µs of its main thread), so the model is compute-bound behind a
 * gateway; with 6 layers a row cost ~30 µs, no more than its HTTP request.
 */
export const HEAVY_LAYERS = 48;
/**
 * Distinct weight matrices: layer k uses W_(k mod 6). Constant folding keeps the
 * intermediates of the weight subgraphs in ORT's arena: with 48 distinct weights a gateway
 * serving two copies of the model had an RSS of 1.8 GiB (0.33 GiB with six).
 */
export const HEAVY_WEIGHTS = 6;
/** Multiplier and prime modulus of the in-graph weight hash (those of the MINSTD generator). */
const HASH_A = 48271;
const HASH_P = 2147483647;

/**
 * Compute-heavy model: y = relu(W_(47 mod 6) · … relu(W_0 · x)), x and y FP32 [batch,512].
 *
 * The six 512×512 weights are not stored: each is computed in the graph from scalar constants,
 *   i = Range(k·512², (k+1)·512²) (INT64), u = (A·i² mod P) / P − 0.5, W_k = Reshape(s·u, [512,512])
 * with exact int64 arithmetic (A·i² < 2^57), so the weights are the same on every platform.
 * ONNX Runtime constant-folds these subgraphs when it creates the session, so a run costs
 * only the 48 MatMuls. u is uniform on [-0.5,0.5) (variance 1/12); s = sqrt(24/512) gives
 * W the He variance 2/512, which keeps the activations' scale roughly constant through ReLUs.
 */
/** `layers` other than HEAVY_LAYERS: a lighter or deeper variant (tests). */
export function heavyModel(layers = HEAVY_LAYERS): Uint8Array {
  const n = HEAVY_WIDTH;
  const count = n * n;
  const scale = Math.sqrt(24 / n);
  const initializers = [
    int64Tensor('one', [], [1]),
    int64Tensor('hash_a', [], [HASH_A]),
    int64Tensor('hash_p', [], [HASH_P]),
    floatTensor('inv_p', [], [1 / HASH_P]),
    floatTensor('half', [], [0.5]),
    floatTensor('scale', [], [scale]),
    int64Tensor('w_shape', [2], [n, n]),
  ];
  const nodes = [];
  let prev = 'x';
  for (let k = 0; k < Math.min(HEAVY_WEIGHTS, layers); k++) {
    const p = `w${k}_`;
    initializers.push(int64Tensor(`${p}start`, [], [k * count]), int64Tensor(`${p}limit`, [], [(k + 1) * count]));
    nodes.push(
      node('Range', [`${p}start`, `${p}limit`, 'one'], [`${p}i`]),
      node('Mul', [`${p}i`, `${p}i`], [`${p}i2`]),
      node('Mul', [`${p}i2`, 'hash_a'], [`${p}ai2`]),
      node('Mod', [`${p}ai2`, 'hash_p'], [`${p}h`]),
      node('Cast', [`${p}h`], [`${p}hf`], [attr('to', ELEM.FLOAT)]),
      node('Mul', [`${p}hf`, 'inv_p'], [`${p}u01`]),
      node('Sub', [`${p}u01`, 'half'], [`${p}u`]),
      node('Mul', [`${p}u`, 'scale'], [`${p}flat`]),
      node('Reshape', [`${p}flat`, 'w_shape'], [`w${k}`]),
    );
  }
  for (let k = 0; k < layers; k++) {
    const out = k === layers - 1 ? 'y' : `a${k}`;
    nodes.push(node('MatMul', [prev, `w${k % HEAVY_WEIGHTS}`], [`${out}_mm`]), node('Relu', [`${out}_mm`], [out]));
    prev = out;
  }
  return encodeModel({
    name: 'heavy',
    docString: `${layers} layers of MatMul(${n}x${n})+Relu cycling over ${HEAVY_WEIGHTS} weights computed in-graph and constant-folded by the runtime`,
    inputs: [valueInfo('x', ELEM.FLOAT, ['batch', n])],
    outputs: [valueInfo('y', ELEM.FLOAT, ['batch', n])],
    initializers,
    nodes,
  });
}

/** Every KServe v2 datatype with its ONNX element type, in the protocol's order. */
export const DTYPES_TYPES: ReadonlyArray<readonly [string, ElemType]> = [
  ['BOOL', ELEM.BOOL],
  ['UINT8', ELEM.UINT8],
  ['UINT16', ELEM.UINT16],
  ['UINT32', ELEM.UINT32],
  ['UINT64', ELEM.UINT64],
  ['INT8', ELEM.INT8],
  ['INT16', ELEM.INT16],
  ['INT32', ELEM.INT32],
  ['INT64', ELEM.INT64],
  ['FP16', ELEM.FLOAT16],
  ['FP32', ELEM.FLOAT],
  ['FP64', ELEM.DOUBLE],
  ['BYTES', ELEM.STRING],
];

/** Pass-through model: for each datatype, `out_<dt>` = Identity(`in_<dt>`), shape [batch, n_<dt>]. */
export function dtypesModel(): Uint8Array {
  const inputs = [];
  const outputs = [];
  const nodes = [];
  for (const [dt, elem] of DTYPES_TYPES) {
    const lower = dt.toLowerCase();
    inputs.push(valueInfo(`in_${lower}`, elem, ['batch', `n_${lower}`]));
    outputs.push(valueInfo(`out_${lower}`, elem, ['batch', `n_${lower}`]));
    nodes.push(node('Identity', [`in_${lower}`], [`out_${lower}`]));
  }
  return encodeModel({
    name: 'dtypes',
    docString: 'Identity for every KServe v2 datatype',
    inputs,
    outputs,
    initializers: [],
    nodes,
  });
}

/** Element type and its v2 name of the `simple` family's integer variants. */
export type SimpleVariant = 'INT32' | 'INT8';

/**
 * Triton's `simple` signature (its examples call it unchanged): INPUT0, INPUT1 [batch,16]
 * → OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 − INPUT1, in INT32 (`simple`) or INT8
 * (`simple_int8`, wrapping like Triton's int8 model).
 */
export function simpleModel(variant: SimpleVariant = 'INT32'): Uint8Array {
  const elem = variant === 'INT32' ? ELEM.INT32 : ELEM.INT8;
  const dims = ['batch', 16];
  if (variant === 'INT32') {
    return encodeModel({
      name: 'simple',
      docString: 'Triton simple: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1',
      inputs: [valueInfo('INPUT0', elem, dims), valueInfo('INPUT1', elem, dims)],
      outputs: [valueInfo('OUTPUT0', elem, dims), valueInfo('OUTPUT1', elem, dims)],
      initializers: [],
      nodes: [node('Add', ['INPUT0', 'INPUT1'], ['OUTPUT0']), node('Sub', ['INPUT0', 'INPUT1'], ['OUTPUT1'])],
    });
  }
  // ONNX Runtime has no INT8 Add/Sub kernels: compute in INT32 and cast back (wraps modulo 256)
  return encodeModel({
    name: 'simple_int8',
    docString: 'Triton simple_int8: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 (wrapping)',
    inputs: [valueInfo('INPUT0', elem, dims), valueInfo('INPUT1', elem, dims)],
    outputs: [valueInfo('OUTPUT0', elem, dims), valueInfo('OUTPUT1', elem, dims)],
    initializers: [int32Scalar('c128', 128), int32Scalar('c256', 256)],
    nodes: [
      node('Cast', ['INPUT0'], ['a'], [attr('to', ELEM.INT32)]),
      node('Cast', ['INPUT1'], ['b'], [attr('to', ELEM.INT32)]),
      node('Add', ['a', 'b'], ['sum32']),
      node('Sub', ['a', 'b'], ['diff32']),
      // INT32 → INT8 Cast saturates in some kernels; wrap explicitly: ((x + 128) mod 256) − 128
      ...wrapInt8('sum32', 'OUTPUT0'),
      ...wrapInt8('diff32', 'OUTPUT1'),
    ],
  });
}

function int32Scalar(name: string, value: number): ReturnType<typeof int64Tensor> {
  return { name, dims: [], dataType: ELEM.INT32, rawData: new Uint8Array(Int32Array.of(value).buffer) };
}

function wrapInt8(from: string, to: string): ReturnType<typeof node>[] {
  return [
    node('Add', [from, 'c128'], [`${from}_p`]),
    node('Mod', [`${from}_p`, 'c256'], [`${from}_m`], [attr('fmod', 0)]),
    node('Sub', [`${from}_m`, 'c128'], [`${from}_w`]),
    node('Cast', [`${from}_w`], [to], [attr('to', ELEM.INT8)]),
  ];
}

/**
 * Triton's `simple_string`: INPUT0, INPUT1 BYTES [batch,16], each element the decimal text
 * of an integer → OUTPUT0, OUTPUT1 BYTES: the text of their sum and difference.
 */
export function simpleStringModel(): Uint8Array {
  const dims = ['batch', 16];
  return encodeModel({
    name: 'simple_string',
    docString: 'Triton simple_string: decimal strings in, their sum and difference as strings out',
    inputs: [valueInfo('INPUT0', ELEM.STRING, dims), valueInfo('INPUT1', ELEM.STRING, dims)],
    outputs: [valueInfo('OUTPUT0', ELEM.STRING, dims), valueInfo('OUTPUT1', ELEM.STRING, dims)],
    initializers: [],
    nodes: [
      node('Cast', ['INPUT0'], ['a'], [attr('to', ELEM.INT32)]),
      node('Cast', ['INPUT1'], ['b'], [attr('to', ELEM.INT32)]),
      node('Add', ['a', 'b'], ['sum']),
      node('Sub', ['a', 'b'], ['diff']),
      node('Cast', ['sum'], ['OUTPUT0'], [attr('to', ELEM.STRING)]),
      node('Cast', ['diff'], ['OUTPUT1'], [attr('to', ELEM.STRING)]),
    ],
  });
}

/** Triton's `simple_identity`: INPUT0 BYTES [batch,n] → OUTPUT0 = INPUT0. */
export function simpleIdentityModel(): Uint8Array {
  return encodeModel({
    name: 'simple_identity',
    docString: 'Triton simple_identity: BYTES pass-through',
    inputs: [valueInfo('INPUT0', ELEM.STRING, ['batch', 'n'])],
    outputs: [valueInfo('OUTPUT0', ELEM.STRING, ['batch', 'n'])],
    initializers: [],
    nodes: [node('Identity', ['INPUT0'], ['OUTPUT0'])],
  });
}
