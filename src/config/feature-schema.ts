/**
 * Config schema of online features: the `features.views` section of the server config and
 * the per-model binding `models.<name>.features`. Like monitoring-schema.ts, views sit in a
 * map (replaced whole when a file is layered over the defaults), so a view's own defaults
 * (dtype, ttl_ms …) are filled in by normaliseFeatureConfig, which also makes a relative
 * `file` absolute; the rules between keys (a hash view needs `entity`, a Feast view its
 * project …) are in featureConfigIssues. Both run as part of the server config's
 * normalise / validate steps.
 */
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { configIssue, type ConfigIssue } from './errors.js';
import { isPlainObject, type DeepReadonly } from './merge.js';
import { orNull } from './model-schema.js';

/** Tensor datatypes a feature value may be parsed to (every numeric v2 datatype). */
export const FEATURE_DTYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64'] as const;
export type FeatureDtype = (typeof FEATURE_DTYPES)[number];

/** Feast value types an entity join key may have (ValueType enum numbers in feast/types/Value.proto). */
export const FEAST_JOIN_KEY_TYPES = ['STRING', 'BYTES', 'INT32', 'INT64'] as const;
export type FeastJoinKeyType = (typeof FEAST_JOIN_KEY_TYPES)[number];

const NAME = '^[A-Za-z_][A-Za-z0-9_.:-]*$';
const NAME_EXPECTED = 'a name of letters, digits, _ . : - (starting with a letter or _)';
const inputName = (description: string) => Type.String({ minLength: 1, description });

/** The defaults of a view's optional keys (what normaliseFeatureConfig fills in). */
export const VIEW_DEFAULTS = Object.freeze({
  format: 'hash' as const,
  dtype: 'FP32' as const,
  ttl_ms: 1000,
  cache_max_entries: 100_000,
});

export const FeatureViewSchema = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal('hash'), Type.Literal('feast')], {
        default: VIEW_DEFAULTS.format,
        description:
          'hash: one Redis hash per entity (key template below), one readable value per field; feast: the Redis layout of a Feast online store (project, feature_view, join_keys)',
      }),
    ),
    entity: Type.Optional(
      inputName(
        'name of the BYTES request input carrying the entity ids (shape [n] or [n,1]); required for hash views; a Feast view with one join key defaults to the join key\'s name',
      ),
    ),
    key: Type.Optional(
      Type.String({
        pattern: '\\{id\\}',
        description: 'hash views: the Redis key of an entity, "{id}" replaced by its id; default "<view>:{id}"',
        expected: 'a string containing {id}, e.g. "customer:{id}"',
      }),
    ),
    fields: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      uniqueItems: true,
      description: 'the features read, in the order of the tensor columns they fill (Feast views: feature names of feature_view)',
      expected: 'a non-empty list of distinct field names',
    }),
    dtype: Type.Optional(
      Type.Union(
        [
          Type.Literal('BOOL'),
          Type.Literal('UINT8'),
          Type.Literal('UINT16'),
          Type.Literal('UINT32'),
          Type.Literal('UINT64'),
          Type.Literal('INT8'),
          Type.Literal('INT16'),
          Type.Literal('INT32'),
          Type.Literal('INT64'),
          Type.Literal('FP16'),
          Type.Literal('FP32'),
          Type.Literal('FP64'),
        ],
        {
          default: VIEW_DEFAULTS.dtype,
          description: 'the datatype the values are parsed to; a value that does not parse counts as missing (the default is used)',
        },
      ),
    ),
    defaults: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.Union([Type.Number(), Type.Boolean()]), {
        default: {},
        description: 'value per field used when the field is missing, unparsable, stale or the store fails; fields not listed default to 0',
        expected: 'a mapping of field name to number',
      }),
    ),
    ttl_ms: Type.Optional(
      Type.Integer({ minimum: 0, default: VIEW_DEFAULTS.ttl_ms, description: 'milliseconds a fetched entity stays in the local cache; 0 = no cache' }),
    ),
    cache_max_entries: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: VIEW_DEFAULTS.cache_max_entries,
        description: 'entities the local cache holds at most; the least recently used go first',
      }),
    ),
    file: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "hash views without Redis: a .jsonl (one object per line) or .csv (header row) file loaded into memory at startup, rows keyed by the `entity` column; a relative path is read from the config file's folder",
      }),
    ),
    project: Type.Optional(Type.String({ minLength: 1, description: 'Feast views: the Feast project (appended to every key)' })),
    feature_view: Type.Optional(Type.String({ minLength: 1, description: 'Feast views: the Feast feature view the fields belong to' })),
    join_keys: Type.Optional(
      Type.Union(
        [
          Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }),
          Type.Record(
            Type.String({ minLength: 1 }),
            Type.Union([Type.Literal('STRING'), Type.Literal('BYTES'), Type.Literal('INT32'), Type.Literal('INT64')], {
              description: "the join key's Feast value type",
            }),
          ),
        ],
        {
          description:
            'Feast views: the entity join keys, as a list (STRING values) or a mapping of join key to value type (STRING, BYTES, INT32, INT64); with several, each is read from the request input of its name',
          expected: 'a list of join key names, or a mapping of join key to one of STRING | BYTES | INT32 | INT64',
        },
      ),
    ),
    max_age_s: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'Feast views: values whose _ts is older than this many seconds count as missing (reason stale); absent = no limit',
        expected: 'a number > 0',
      }),
    ),
  },
  { additionalProperties: false, description: 'a feature view: where an entity\'s features live and how they become tensor columns' },
);

export const FeatureBindingSchema = Type.Object(
  {
    input: inputName('the model input filled from the views (when the request does not send it itself)'),
    views: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      uniqueItems: true,
      description: 'views whose fields are concatenated, in this order, into the input\'s columns',
      expected: 'a non-empty list of distinct view names',
    }),
  },
  { additionalProperties: false, description: 'fill one model input from feature views' },
);

export const FeaturesSchema = Type.Object(
  {
    views: Type.Record(Type.String({ pattern: NAME, expected: NAME_EXPECTED }), FeatureViewSchema, {
      default: {},
      description: 'feature views by name',
    }),
    lookup_timeout_ms: Type.Integer({
      minimum: 1,
      default: 50,
      description: "milliseconds a request's store reads may take; later ones are answered with the defaults (reason timeout) and the request goes on",
    }),
  },
  { additionalProperties: false, description: 'online features: entity ids in the request → feature tensors (Redis, or files in memory)' },
);

export const ModelSettingsSchema = Type.Object(
  { features: Type.Optional(FeatureBindingSchema) },
  { additionalProperties: false, description: 'settings of one model (by name) kept in the server config' },
);

/** The sections as the complete server config holds them. */
export const FeatureConfigProperties = {
  features: FeaturesSchema,
  models: Type.Record(Type.String({ minLength: 1 }), ModelSettingsSchema, {
    default: {},
    description: 'per-model settings by model name: which inputs are filled from feature views',
  }),
};

/** The sections as a file may write them (null = defaults). */
export const FeatureConfigFileProperties = {
  features: orNull(Type.Partial(FeaturesSchema, { additionalProperties: false })),
  models: orNull(FeatureConfigProperties.models),
};

export type FeatureViewConfig = DeepReadonly<Static<typeof FeatureViewSchema>>;
export type FeatureBindingConfig = DeepReadonly<Static<typeof FeatureBindingSchema>>;
export type FeaturesConfig = DeepReadonly<Static<typeof FeaturesSchema>>;
export type ModelSettingsConfig = DeepReadonly<Static<typeof ModelSettingsSchema>>;

/**
 * Part of the normalise step, on the merged server config (changed in place): fills in each
 * view's missing optional keys and resolves a relative `file` against `baseDir` (the config
 * file's folder). Values of the wrong type are left for validation to report.
 */
export function normaliseFeatureConfig(config: unknown, baseDir: string): void {
  if (!isPlainObject(config)) return;
  if (config.models === null) config.models = {};
  if (!isPlainObject(config.features)) return;
  if (config.features.views === undefined || config.features.views === null) config.features.views = {};
  const views = config.features.views;
  if (!isPlainObject(views)) return;
  for (const [name, view] of Object.entries(views)) {
    if (!isPlainObject(view)) continue;
    if (view.format === undefined) view.format = VIEW_DEFAULTS.format;
    if (view.dtype === undefined) view.dtype = VIEW_DEFAULTS.dtype;
    if (view.defaults === undefined || view.defaults === null) view.defaults = {};
    if (view.ttl_ms === undefined) view.ttl_ms = VIEW_DEFAULTS.ttl_ms;
    if (view.cache_max_entries === undefined) view.cache_max_entries = VIEW_DEFAULTS.cache_max_entries;
    if (view.format === 'hash' && view.key === undefined) view.key = `${name}:{id}`;
    if (typeof view.file === 'string' && view.file !== '') view.file = path.resolve(baseDir, view.file);
  }
}

const HASH_ONLY = ['key', 'file'] as const;
const FEAST_ONLY = ['project', 'feature_view', 'join_keys', 'max_age_s'] as const;

/**
 * Rules the schema cannot say: what each view format needs and allows, defaults naming
 * fields of the view, bindings naming views that exist. Reported at the offending key.
 */
export function featureConfigIssues(config: unknown, sourceOf: (key: string) => string): ConfigIssue[] {
  if (!isPlainObject(config)) return [];
  const issues: ConfigIssue[] = [];
  const issue = (at: string, value: unknown, expected: string): void => {
    issues.push(configIssue({ source: sourceOf(at), path: at, value, expected }));
  };
  const views = isPlainObject(config.features) && isPlainObject(config.features.views) ? config.features.views : {};
  for (const [name, view] of Object.entries(views)) {
    if (!isPlainObject(view)) continue;
    const at = `features.views.${name}`;
    const feast = view.format === 'feast';
    for (const key of feast ? HASH_ONLY : FEAST_ONLY) {
      if (view[key] !== undefined) issue(`${at}.${key}`, view[key], `no ${key} in a ${feast ? 'Feast' : 'hash'} view (it belongs to ${feast ? 'format: hash' : 'format: feast'})`);
    }
    if (feast) {
      for (const key of ['project', 'feature_view', 'join_keys'] as const) {
        if (view[key] === undefined) issue(`${at}.${key}`, undefined, `${key} of the Feast view (format: feast needs project, feature_view and join_keys)`);
      }
      const keys = joinKeyNames(view.join_keys);
      if (keys.length > 1 && view.entity !== undefined) {
        issue(`${at}.entity`, view.entity, `no entity with several join keys: each join key (${keys.join(', ')}) is read from the request input of its name`);
      }
    } else if (view.entity === undefined) {
      issue(`${at}.entity`, undefined, 'the name of the BYTES input carrying the entity ids (a hash view needs entity)');
    }
    const fields = Array.isArray(view.fields) ? view.fields : [];
    if (isPlainObject(view.defaults)) {
      for (const field of Object.keys(view.defaults)) {
        if (!fields.includes(field)) issue(`${at}.defaults.${field}`, view.defaults[field], `a default for one of the view's fields (${fields.join(', ')})`);
      }
    }
  }
  const models = isPlainObject(config.models) ? config.models : {};
  for (const [model, settings] of Object.entries(models)) {
    if (!isPlainObject(settings) || !isPlainObject(settings.features)) continue;
    const binding = settings.features;
    if (!Array.isArray(binding.views)) continue;
    binding.views.forEach((viewName: unknown, i) => {
      if (typeof viewName !== 'string') return;
      const view = views[viewName];
      if (view === undefined) {
        const known = Object.keys(views);
        issue(`models.${model}.features.views[${i}]`, viewName, known.length === 0 ? 'a view defined under features.views (none is)' : `one of the views under features.views: ${known.join(', ')}`);
        return;
      }
      if (isPlainObject(view) && entityInputsOf(view).includes(binding.input as string)) {
        issue(`models.${model}.features.input`, binding.input, `an input other than the entity input of view "${viewName}"`);
      }
    });
  }
  return issues;
}

/** Join key names of a `join_keys` value (list or mapping), sorted as Feast sorts them. */
export function joinKeyNames(joinKeys: unknown): string[] {
  if (Array.isArray(joinKeys)) return joinKeys.filter((k): k is string => typeof k === 'string').sort();
  if (isPlainObject(joinKeys)) return Object.keys(joinKeys).sort();
  return [];
}

function entityInputsOf(view: Record<string, unknown>): string[] {
  if (typeof view.entity === 'string') return [view.entity];
  return view.format === 'feast' ? joinKeyNames(view.join_keys) : [];
}
