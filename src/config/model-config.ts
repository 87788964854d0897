/**
 * Per-model config: `<repository>/<model>/config.yaml`.
 *   parse     YAML text → plain data                           parseModelConfig
 *   normalise defaults ← server model_defaults ← file          (inside resolveModelConfig)
 *   validate  schema + cross-key rules, all issues at once      validateModelConfig
 * The result is deeply frozen. `max_batch_size` may still be "auto": the repository
 * decides it from the model's inputs (and checks preferred_batch_sizes against the result).
 */
import type { Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, configIssue, formatPath, type ConfigIssue } from './errors.js';
import { deepFreeze, getPath, isPlainObject, mergeUnder, type DeepReadonly } from './merge.js';
import { ModelConfigSchema, type PartialModelConfig } from './model-schema.js';
import { schemaIssues } from './schema-issues.js';
import { parseYaml } from './yaml-source.js';

/**
 * A model's settings after merging and validation.
 * - `max_batch_size`: a number, or "auto" until the repository has read the model.
 * - `dynamic_batching.default_priority_level`: always 1..priority_levels here (1 is the
 *   highest priority); a 0 in the file stands for the lowest level, priority_levels.
 * - `dynamic_batching.preferred_batch_sizes`: ascending.
 */
export type ModelConfig = DeepReadonly<Static<typeof ModelConfigSchema>>;

const checkModelConfig = TypeCompiler.Compile(ModelConfigSchema);

/**
 * Every default as the schema states it, before resolution (default_priority_level is
 * still 0 = "the lowest", so that a file raising priority_levels keeps that meaning).
 * `resolveModelConfig(null, null, name)` gives the resolved defaults.
 */
const BUILT_IN_DEFAULTS = deepFreeze(Value.Create(ModelConfigSchema));

/** YAML text of a config.yaml → plain data (not yet checked). */
export function parseModelConfig(text: string, sourceName: string): unknown {
  return parseYaml(text, sourceName);
}

/**
 * The config of one model: built-in defaults ← the server's `model_defaults` ← the
 * model's own file (`null` when it has none), validated. `sourceName` is a display name
 * such as `models/resnet/config.yaml`, never an absolute path.
 */
export function resolveModelConfig(fromFile: unknown, defaults: PartialModelConfig | null, sourceName: string): ModelConfig {
  const layered = mergeUnder(ModelConfigSchema, mergeUnder(ModelConfigSchema, BUILT_IN_DEFAULTS, defaults ?? {}), fromFile ?? {});
  return validateModelConfig(layered, sourceName, fromFile);
}

/**
 * A complete model config (every key present) checked against the schema and the rules
 * between keys; throws one ConfigError listing every problem. `fromFile`, when given,
 * is what the file itself said, to point out values that came from model_defaults.
 */
export function validateModelConfig(value: unknown, sourceName: string, fromFile: unknown = value): ModelConfig {
  const issues = [...schemaIssues(checkModelConfig, value, () => sourceName), ...crossKeyIssues(value, sourceName, fromFile)];
  if (issues.length > 0) throw new ConfigError(issues);
  const config = structuredClone(value) as Static<typeof ModelConfigSchema>;
  const batching = config.dynamic_batching;
  if (batching.default_priority_level === 0) batching.default_priority_level = batching.priority_levels;
  batching.preferred_batch_sizes.sort((a, b) => a - b);
  return deepFreeze(config);
}

/** Rules between keys, checked on whatever parts are well-typed (so all issues come at once). */
function crossKeyIssues(value: unknown, sourceName: string, fromFile: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!isPlainObject(value) || !isPlainObject(value.dynamic_batching)) return issues;
  const batching = value.dynamic_batching;
  const maxBatch = value.max_batch_size;
  const preferred = batching.preferred_batch_sizes;
  if (Number.isInteger(maxBatch) && (maxBatch as number) > 0 && Array.isArray(preferred)) {
    const fromDefaults = getPath(fromFile, ['dynamic_batching', 'preferred_batch_sizes']) === undefined;
    preferred.forEach((size: unknown, index) => {
      if (Number.isInteger(size) && (size as number) > (maxBatch as number)) {
        issues.push(
          configIssue({
            source: sourceName,
            path: formatPath(['dynamic_batching', 'preferred_batch_sizes', index]),
            value: size,
            expected: `an integer <= max_batch_size (${maxBatch as number})`,
            detail: fromDefaults ? "(this list comes from the server config's model_defaults)" : '',
          }),
        );
      }
    });
  }
  const levels = batching.priority_levels;
  const level = batching.default_priority_level;
  if (Number.isInteger(levels) && (levels as number) >= 1 && Number.isInteger(level) && (level as number) > (levels as number)) {
    issues.push(
      configIssue({
        source: sourceName,
        path: 'dynamic_batching.default_priority_level',
        value: level,
        expected: `an integer 0..priority_levels (${levels as number}); 0 = the lowest`,
      }),
    );
  }
  return issues;
}
