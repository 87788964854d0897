import path from 'node:path';
import {
  ConfigError,
  VIEW_DEFAULTS,
  configIssue,
  featureConfigIssues,
  type ConfigIssue,
  type FeatureBindingConfig,
  type FeatureViewConfig,
} from '../config/index.js';
import { sortJoinKeys } from './feast/entity-key.js';
import { FeastCodec } from './feast/feast-codec.js';
import { HashCodec } from './hash-codec.js';
import { FeatureView, defaultsRow, joinKeysOf } from './view.js';

/** Where config problems found at startup are said to come from. */
const SOURCE = 'the server config';

/** A binding compiled against its views: the input it fills and where each view's columns go. */
export class FeatureBinding {
  readonly model: string;
  /** the model input filled from the views */
  readonly input: string;
  readonly views: readonly FeatureView[];
  /** first column of each view in the filled tensor */
  readonly offsets: readonly number[];
  /** columns of the filled tensor: the views' fields, concatenated */
  readonly width: number;
  /** every request input carrying entity ids for these views (distinct, in view order) */
  readonly entityInputs: readonly string[];

  constructor(model: string, input: string, views: readonly FeatureView[]) {
    this.model = model;
    this.input = input;
    this.views = views;
    const offsets: number[] = [];
    let width = 0;
    for (const v of views) {
      offsets.push(width);
      width += v.fields.length;
    }
    this.offsets = offsets;
    this.width = width;
    this.entityInputs = [...new Set(views.flatMap((v) => v.entityInputs))];
  }
}

export interface CompiledFeatures {
  readonly views: ReadonlyMap<string, FeatureView>;
  readonly bindings: ReadonlyMap<string, FeatureBinding>;
}

/**
 * Views and bindings from config (normalised or not: missing optional keys take their
 * defaults here too; a relative `file` is read from `baseDir`). Throws one ConfigError
 * listing every problem.
 */
export function compileFeatures(
  views: Readonly<Record<string, FeatureViewConfig>>,
  bindings: Readonly<Record<string, FeatureBindingConfig>>,
  baseDir: string,
): CompiledFeatures {
  const models: Record<string, { features: FeatureBindingConfig }> = {};
  for (const [model, binding] of Object.entries(bindings)) models[model] = { features: binding };
  const issues: ConfigIssue[] = featureConfigIssues({ features: { views: withDefaultFormat(views) }, models }, () => SOURCE);
  const compiled = new Map<string, FeatureView>();
  for (const [name, config] of Object.entries(views)) {
    const { view, issues: viewIssues } = compileView(name, config, baseDir);
    issues.push(...viewIssues);
    compiled.set(name, view);
  }
  const compiledBindings = new Map<string, FeatureBinding>();
  for (const [model, binding] of Object.entries(bindings)) {
    const list = binding.views.map((v) => compiled.get(v)).filter((v): v is FeatureView => v !== undefined);
    if (list.length === binding.views.length) compiledBindings.set(model, new FeatureBinding(model, binding.input, list));
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { views: compiled, bindings: compiledBindings };
}

function withDefaultFormat(views: Readonly<Record<string, FeatureViewConfig>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(views)) out[name] = { ...v, format: v.format ?? VIEW_DEFAULTS.format };
  return out;
}

/** One view from its config; problems the schema cannot see (a default of the wrong type) as issues. */
export function compileView(name: string, config: FeatureViewConfig, baseDir: string): { view: FeatureView; issues: ConfigIssue[] } {
  const { row, issues } = defaultsRow(name, config, SOURCE);
  const file = config.file === undefined ? null : path.resolve(baseDir, config.file);
  if ((config.format ?? VIEW_DEFAULTS.format) === 'feast') {
    const joinKeys = joinKeysOf(config);
    // the codec's key layout splits an id in this order: both sort as Feast does
    const sorted = sortJoinKeys(joinKeys);
    const entityInputs = sorted.length === 1 ? [config.entity ?? sorted[0].name] : sorted.map((k) => k.name);
    const view = new FeatureView(name, config, entityInputs, sorted.map((k) => k.name), row, file, (shape) =>
      new FeastCodec(shape, {
        project: config.project ?? '',
        featureView: config.feature_view ?? '',
        joinKeys,
        maxAgeMs: config.max_age_s === undefined ? null : config.max_age_s * 1000,
      }),
    );
    return { view, issues };
  }
  // a missing `entity` is reported by featureConfigIssues
  let key = config.key ?? `${name}:{id}`;
  if (!key.includes('{id}')) {
    issues.push(configIssue({ source: SOURCE, path: `features.views.${name}.key`, value: key, expected: 'a string containing {id}, e.g. "customer:{id}"' }));
    key = `${name}:{id}`;
  }
  const entity = config.entity ?? `${name}_id`;
  const view = new FeatureView(name, config, [entity], [entity], row, file, (shape) => new HashCodec(shape, key));
  return { view, issues };
}
