/**
 * The per-model config schema (`<repository>/<model>/config.yaml`), authored once: the
 * TypeScript types, the published JSON Schema, the validator and the defaults all come
 * from the definitions below. Defaults live in the `default` of each leaf (editors show
 * them) and are read back with `Value.Create`; they suit a CPU box.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { DeepReadonly } from './merge.js';

const nonNegative = (description: string, value: number) => Type.Integer({ minimum: 0, default: value, description });

export const ExecutionProviderSchema = Type.Union([Type.Literal('cpu'), Type.Literal('cuda'), Type.Literal('tensorrt')], {
  description: 'an ONNX Runtime execution provider',
});
export type ExecutionProvider = Static<typeof ExecutionProviderSchema>;

export const VersionPolicySchema = Type.Union(
  [
    Type.Literal('all', { description: 'serve every version found in the model folder' }),
    Type.Object(
      { latest: Type.Integer({ minimum: 1, description: 'serve the N highest-numbered versions' }) },
      { additionalProperties: false, expected: '{ latest: <integer >= 1> }' },
    ),
    Type.Object(
      {
        specific: Type.Array(Type.Integer({ minimum: 1 }), {
          minItems: 1,
          uniqueItems: true,
          description: 'serve exactly these versions',
          expected: 'a non-empty list of distinct integers >= 1',
        }),
      },
      { additionalProperties: false, expected: '{ specific: [<integer >= 1>, ...] }' },
    ),
  ],
  {
    default: { latest: 1 },
    description: 'which version folders (1/, 2/, ...) are served: "all", { latest: N } or { specific: [...] }',
    expected: '"all", { latest: <integer >= 1> } or { specific: [<integer >= 1>, ...] }',
  },
);
export type VersionPolicy = DeepReadonly<Static<typeof VersionPolicySchema>>;

export const DynamicBatchingSchema = Type.Object(
  {
    max_queue_delay_us: nonNegative(
      'microseconds a request may wait for others to join its batch while an instance is free; 0 = dispatch at once (batches still grow while every instance is busy)',
      0,
    ),
    preferred_batch_sizes: Type.Array(Type.Integer({ minimum: 1 }), {
      uniqueItems: true,
      default: [],
      description: 'batch sizes to dispatch as soon as they are reached; each <= max_batch_size',
      expected: 'a list of distinct integers >= 1',
    }),
    max_queue_size: nonNegative('requests that may wait per model version before new ones get 429 (queue full); 0 = unbounded', 1024),
    default_timeout_us: nonNegative('microseconds a request may wait in the queue before it times out (504), unless it sets its own; 0 = no limit', 0),
    priority_levels: Type.Integer({ minimum: 1, default: 1, description: 'number of priority levels; level 1 is served first' }),
    default_priority_level: nonNegative(
      'priority of requests that do not set one, 1..priority_levels; 0 = the lowest (priority_levels)',
      0,
    ),
  },
  { additionalProperties: false, description: 'how requests are assembled into batches' },
);

export const OutputSettingsSchema = Type.Object(
  {
    label_filename: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "labels of this output's classes, for the classification extension (Triton's label_filename): a file in the model's folder, one label per line, line i = class i",
      }),
    ),
  },
  { additionalProperties: false, description: 'settings of one model output' },
);

export const ModelConfigSchema = Type.Object(
  {
    max_batch_size: Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('auto')], {
      default: 'auto',
      description:
        'largest batch sent to the model (concatenated on dim 0); 0 = no batching; "auto" = 64 when every input has a dynamic dim 0, else 0',
    }),
    dynamic_batching: DynamicBatchingSchema,
    instance_count: Type.Integer({ minimum: 1, default: 1, description: 'sessions of this model run in parallel (one per pool worker)' }),
    execution_providers: Type.Array(ExecutionProviderSchema, {
      minItems: 1,
      uniqueItems: true,
      default: ['cpu'],
      description: 'providers to try in order; the first that loads is used',
      expected: 'a non-empty list of distinct providers, each one of cpu | cuda | tensorrt',
    }),
    intra_op_threads: nonNegative("ONNX Runtime intra-op threads per instance; 0 = share the server's threads among instances", 0),
    version_policy: VersionPolicySchema,
    outputs: Type.Record(Type.String({ minLength: 1 }), OutputSettingsSchema, {
      default: {},
      description: 'per-output settings, by output name, e.g. { probabilities: { label_filename: labels.txt } }',
      expected: 'a map from output names to { label_filename: <file> }',
    }),
  },
  { additionalProperties: false },
);

/** In a file, a section left empty (its keys commented out) reads as null and means "defaults". */
export const orNull = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** What a `config.yaml` (or the server's `model_defaults`) may contain: any subset of the keys. */
export const PartialModelConfigSchema = Type.Partial(
  Type.Object({
    ...ModelConfigSchema.properties,
    dynamic_batching: orNull(Type.Partial(DynamicBatchingSchema, { additionalProperties: false })),
  }),
  { additionalProperties: false, default: {}, description: "per-model settings (a model's config.yaml); every key is optional" },
);
export type PartialModelConfig = DeepReadonly<Static<typeof PartialModelConfigSchema>>;
