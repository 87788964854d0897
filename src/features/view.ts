import { configIssue, type ConfigIssue, type FeatureDtype, type FeatureViewConfig, type FeastJoinKeyType, VIEW_DEFAULTS } from '../config/index.js';
import { parseFeature } from './parse.js';
import { REASON } from './reasons.js';
import { allocateRow, defaultRow, setRowValue, type FeatureRow, type RowValues } from './row.js';

/** Joins the values of several entity inputs (Feast views with several join keys) into one id. */
export const ID_SEPARATOR = '\u001f';

/**
 * How one view's entities are laid out in Redis: the key of an entity, the hash fields read
 * with one HMGET, and how HMGET's answer becomes a row. Hash views and Feast views differ
 * only here.
 */
export interface ViewCodec {
  /** true: values are binary (read with HMGET as Buffers) */
  readonly binary: boolean;
  /** the fields one HMGET reads, in order */
  readonly hashFields: readonly (string | Buffer)[];
  /** the Redis key of an entity (an id that passed invalidId) */
  key(id: string): string | Buffer;
  /** null when the id can be looked up; else what a valid id is (for the client's error) */
  invalidId(id: string): string | null;
  /** the row for HMGET's answer (all null: the entity is missing) */
  decode(values: readonly (string | Buffer | null)[], nowMs: number): FeatureRow;
}

/** What a codec needs to know of its view. */
export interface ViewShape {
  readonly name: string;
  readonly dtype: FeatureDtype;
  readonly fields: readonly string[];
  readonly defaults: RowValues;
  /** every field defaulted for missing_entity (shared; cacheable) */
  readonly missingEntityRow: FeatureRow;
}

/**
 * A feature view compiled from its config: datatype, defaults as a row, cache settings, the
 * request inputs carrying its entity ids, and the codec of its store layout. Also holds the
 * shared rows standing in for an entity when the store fails or times out.
 */
export class FeatureView implements ViewShape {
  readonly name: string;
  readonly format: 'hash' | 'feast';
  /** request inputs (BYTES) carrying the entity ids; several only for Feast views with several join keys */
  readonly entityInputs: readonly string[];
  /** columns of a feature file holding the ids: the entity input (hash) or the join keys (Feast), in id order */
  readonly idColumns: readonly string[];
  readonly fields: readonly string[];
  readonly dtype: FeatureDtype;
  readonly defaults: RowValues;
  readonly ttlMs: number;
  readonly cacheMaxEntries: number;
  /** absolute path of the file the in-memory store loads, or null */
  readonly file: string | null;
  readonly missingEntityRow: FeatureRow;
  readonly errorRow: FeatureRow;
  readonly timeoutRow: FeatureRow;
  readonly codec: ViewCodec;

  constructor(
    name: string,
    config: FeatureViewConfig,
    entityInputs: readonly string[],
    idColumns: readonly string[],
    defaults: RowValues,
    file: string | null,
    makeCodec: (shape: ViewShape) => ViewCodec,
  ) {
    this.name = name;
    this.format = config.format ?? VIEW_DEFAULTS.format;
    this.entityInputs = entityInputs;
    this.idColumns = idColumns;
    this.fields = [...config.fields];
    this.dtype = config.dtype ?? VIEW_DEFAULTS.dtype;
    this.defaults = defaults;
    this.ttlMs = config.ttl_ms ?? VIEW_DEFAULTS.ttl_ms;
    this.cacheMaxEntries = config.cache_max_entries ?? VIEW_DEFAULTS.cache_max_entries;
    this.file = file;
    this.missingEntityRow = defaultRow(defaults, REASON.missing_entity, true);
    this.errorRow = defaultRow(defaults, REASON.error, false);
    this.timeoutRow = defaultRow(defaults, REASON.timeout, false);
    this.codec = makeCodec(this);
  }
}

/** The defaults of a view as a row (fields not listed: 0), with an issue per default that does not fit the dtype. */
export function defaultsRow(name: string, config: FeatureViewConfig, source: string): { row: RowValues; issues: ConfigIssue[] } {
  const dtype = config.dtype ?? VIEW_DEFAULTS.dtype;
  const row = allocateRow(dtype, config.fields.length);
  const issues: ConfigIssue[] = [];
  const given = config.defaults ?? {};
  config.fields.forEach((field, i) => {
    if (!Object.hasOwn(given, field)) return;
    const v = parseFeature(dtype, given[field]);
    if (v === null) {
      issues.push(configIssue({ source, path: `features.views.${name}.defaults.${field}`, value: given[field], expected: `a value of the view's dtype ${dtype}` }));
    } else setRowValue(row, i, v);
  });
  return { row, issues };
}

/** Join keys of a Feast view with their types, as configured (list → STRING). */
export function joinKeysOf(config: FeatureViewConfig): { name: string; type: FeastJoinKeyType }[] {
  const jk = config.join_keys;
  if (jk === undefined) return [];
  if (Array.isArray(jk)) return (jk as readonly string[]).map((name) => ({ name, type: 'STRING' as const }));
  return Object.entries(jk as Readonly<Record<string, FeastJoinKeyType>>).map(([name, type]) => ({ name, type }));
}
