import type { Datatype, TensorSpec } from '../core/index.js';
import type { LoadedVersion } from '../repository/index.js';

/**
 * What a served model version does, in the shape of Triton's `ModelConfig` (model_config.proto,
 * JSON with the proto's field names and enum names as strings): the answer to gRPC ModelConfig
 * and REST `GET /v2/models/{m}[/versions/{v}]/config`. Only the fields that describe
 * switchyard's behaviour are filled. As in Triton, with `max_batch_size` > 0 the tensors'
 * `dims` leave out the batch dimension; perf_analyzer and Triton's clients build their
 * inputs from exactly these two facts.
 */
export interface ModelConfigJson {
  name: string;
  platform: string;
  backend: string;
  version_policy: { latest: { num_versions: number } } | { all: Record<string, never> } | { specific: { versions: number[] } };
  max_batch_size: number;
  input: TensorConfigJson[];
  output: TensorConfigJson[];
  instance_group: { name: string; kind: 'KIND_CPU' | 'KIND_GPU'; count: number }[];
  default_model_filename: string;
  dynamic_batching?: {
    preferred_batch_size: number[];
    max_queue_delay_microseconds: number;
    priority_levels: number;
    default_priority_level: number;
    default_queue_policy: {
      timeout_action: 'REJECT';
      default_timeout_microseconds: number;
      allow_timeout_override: boolean;
      max_queue_size: number;
    };
  };
  /** switchyard's own facts, as Triton's free-form `parameters` map of string values */
  parameters: Record<string, { string_value: string }>;
}

export interface TensorConfigJson {
  name: string;
  data_type: string;
  dims: number[];
  /** outputs with class labels (classification extension): the labels file, as in Triton */
  label_filename?: string;
}

/** Triton's DataType enum names for the v2 datatypes. */
const TRITON_TYPE: Record<Datatype, string> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};

/** A tensor as Triton's config lists it: with a batch dimension (`batched`), dims leave it out. */
export function tensorConfig(t: TensorSpec, batched: boolean): TensorConfigJson {
  return { name: t.name, data_type: TRITON_TYPE[t.datatype], dims: batched ? t.shape.slice(1) : [...t.shape] };
}

function withLabels(t: TensorConfigJson, labelFilename: string | undefined): TensorConfigJson {
  if (labelFilename !== undefined) t.label_filename = labelFilename;
  return t;
}

export function tritonModelConfig(v: LoadedVersion): ModelConfigJson {
  const c = v.config;
  const batched = c.max_batch_size > 0;
  const db = c.dynamic_batching;
  const policy = c.version_policy;
  const levels = db.priority_levels;
  const gpu = v.provider === 'cuda' || v.provider === 'tensorrt';
  const out: ModelConfigJson = {
    name: v.name,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    version_policy:
      policy === 'all' ? { all: {} } : 'latest' in policy ? { latest: { num_versions: policy.latest } } : { specific: { versions: [...policy.specific] } },
    max_batch_size: c.max_batch_size,
    input: v.signature.inputs.map((t) => tensorConfig(t, batched)),
    output: v.signature.outputs.map((t) => withLabels(tensorConfig(t, batched), c.outputs[t.name]?.label_filename)),
    instance_group: [{ name: v.name, kind: gpu ? 'KIND_GPU' : 'KIND_CPU', count: c.instance_count }],
    default_model_filename: 'model.onnx',
    parameters: {
      execution_provider: { string_value: v.provider },
      execution_providers: { string_value: c.execution_providers.join(',') },
    },
  };
  if (batched) {
    out.dynamic_batching = {
      preferred_batch_size: [...db.preferred_batch_sizes],
      max_queue_delay_microseconds: db.max_queue_delay_us,
      priority_levels: levels,
      default_priority_level: db.default_priority_level === 0 ? levels : db.default_priority_level,
      default_queue_policy: {
        timeout_action: 'REJECT',
        default_timeout_microseconds: db.default_timeout_us,
        allow_timeout_override: true,
        max_queue_size: db.max_queue_size,
      },
    };
  }
  return out;
}
